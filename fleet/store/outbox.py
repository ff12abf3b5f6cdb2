"""The outbox: events for notifiers (the Slack bot now, webhooks later), written inside the
transaction that made the change, so a notifier that was down misses nothing and sees
nothing that was rolled back.

Delivery is tracked per consumer: `emit` writes one delivery row for each registered
consumer in the same transaction, so no cursor is needed (an `after_id` cursor skips rows
that PostgreSQL commits out of id order). A notifier *claims* deliveries under a lease;
per subject (one rollout, one approval) only the earliest undelivered events are claimable,
so a subject's events reach Slack in order even with two notifiers. Each delivery counts
its attempts and keeps its last error; a failure backs off (honouring Retry-After) and,
after `max_attempts`, the delivery is dead-lettered until someone replays it.

A notifier that dies between posting and reporting leaves its claim to expire; the next
holder sees `attempts > 1` and looks for the message it may already have posted (Slack
message metadata carries the event id) before posting again."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, update

from fleet.store import audit
from fleet.store.engine import Engines
from fleet.store.schema import outbox as O
from fleet.store.schema import outbox_consumers as C
from fleet.store.schema import outbox_deliveries as D
from fleet.store.schema import outbox_threads as T

PENDING, CLAIMED, DELIVERED, DEAD = "pending", "claimed", "delivered", "dead"
STATES = (PENDING, CLAIMED, DELIVERED, DEAD)
WINDOW = 2000  # undelivered rows looked at per claim (the oldest first)


def emit(conn: Connection, *, kind: str, subject: str, payload: dict[str, Any]) -> int:
    """Write an event and a pending delivery per registered consumer; returns its id."""
    now = time.time()
    eid = conn.execute(insert(O).values(at=now, kind=kind, subject=subject,
                                        payload=payload)).inserted_primary_key[0]
    rows = select(C.c.name, literal(eid), literal(subject), literal(PENDING), literal(0),
                  literal(now))
    conn.execute(insert(D).from_select(
        ["consumer", "event_id", "subject", "state", "attempts", "next_at"], rows))
    return eid


def backoff_s(attempts: int, policy, retry_after_s: float | None = None) -> float:
    """Exponential from base_backoff_s, capped at max_backoff_s; a longer Retry-After wins."""
    delay = min(policy.base_backoff_s * 2 ** max(attempts - 1, 0), policy.max_backoff_s)
    return max(delay, retry_after_s or 0.0)


class OutboxRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    # -- events -------------------------------------------------------------------------

    def recent(self, *, subject: str | None = None, after_id: int = 0,
               limit: int = 100) -> list[dict[str, Any]]:
        """The newest events (oldest first), with each consumer's delivery state."""
        q = select(O).where(O.c.id > after_id).order_by(O.c.id.desc()).limit(limit)
        if subject:
            q = q.where(O.c.subject == subject)
        with self._e.read.connect() as conn:
            events = [dict(r._mapping) for r in conn.execute(q)][::-1]
            ids = [e["id"] for e in events]
            states: dict[int, dict[str, str]] = {}
            if ids:
                for r in conn.execute(select(D.c.event_id, D.c.consumer, D.c.state)
                                      .where(D.c.event_id.in_(ids))):
                    states.setdefault(r.event_id, {})[r.consumer] = r.state
        for e in events:
            e.pop("delivered_at", None)
            e.pop("delivered_by", None)
            e["deliveries"] = states.get(e["id"], {})
        return events

    def pending(self, consumer: str = "slack", *, limit: int = 100) -> list[dict[str, Any]]:
        """Events not yet delivered to `consumer` (nor dead-lettered), oldest first."""
        q = (select(O).join(D, D.c.event_id == O.c.id)
             .where(D.c.consumer == consumer, D.c.state.in_((PENDING, CLAIMED)))
             .order_by(O.c.id).limit(limit))
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- consumers ----------------------------------------------------------------------

    def consumers(self) -> list[str]:
        with self._e.read.connect() as conn:
            return [r.name for r in conn.execute(select(C.c.name).order_by(C.c.name))]

    def register(self, consumer: str) -> bool:
        """Deliver events from now on to `consumer` too; False if it already was."""
        with self._e.write.begin() as conn:
            if conn.execute(select(C.c.name).where(C.c.name == consumer)).first():
                return False
            conn.execute(insert(C).values(name=consumer, created_at=time.time()))
            return True

    def unregister(self, consumer: str) -> None:
        """Stop delivering to `consumer` and drop its deliveries (a console session's)."""
        with self._e.write.begin() as conn:
            for table in (D, T):
                conn.execute(table.delete().where(table.c.consumer == consumer))
            conn.execute(C.delete().where(C.c.name == consumer))

    # -- delivery -----------------------------------------------------------------------

    def claim(self, consumer: str, holder: str, *, limit: int = 50, lease_s: float = 30.0,
              per_subject: int = 20) -> list[dict[str, Any]]:
        """Claim up to `limit` deliveries for `holder` until now + lease_s: for each subject,
        its earliest undelivered events in order, stopping at the first one that is held by
        someone else or waiting out a backoff. Each claim is a compare-and-set, so two
        notifiers never hold the same event, nor a subject's later event before its
        earlier one is done."""
        now = time.time()
        with self._e.write.begin() as conn:
            rows = conn.execute(
                select(D.c.event_id, D.c.subject, D.c.state, D.c.next_at, D.c.lease_until,
                       D.c.holder)
                .where(D.c.consumer == consumer, D.c.state.in_((PENDING, CLAIMED)))
                .order_by(D.c.event_id).limit(WINDOW)).all()
            by_subject: OrderedDict[str, list] = OrderedDict()
            for r in rows:
                by_subject.setdefault(r.subject, []).append(r)
            mine: list[int] = []
            for run in by_subject.values():
                for r in run[:per_subject]:
                    free = ((r.state == PENDING and r.next_at <= now)
                            or (r.state == CLAIMED and (r.lease_until or 0) < now))
                    if not free or len(mine) >= limit:
                        break
                    same = (D.c.holder == r.holder) if r.holder else D.c.holder.is_(None)
                    got = conn.execute(
                        update(D).where(D.c.consumer == consumer, D.c.event_id == r.event_id,
                                        D.c.state == r.state, same)
                        .values(state=CLAIMED, holder=holder, lease_until=now + lease_s,
                                attempts=D.c.attempts + 1)).rowcount
                    if not got:  # another notifier took it: the rest of this subject waits
                        break
                    mine.append(r.event_id)
                if len(mine) >= limit:
                    break
            if not mine:
                return []
            q = (select(O.c.id, O.c.at, O.c.kind, O.c.subject, O.c.payload, D.c.attempts)
                 .join(D, D.c.event_id == O.c.id)
                 .where(D.c.consumer == consumer, O.c.id.in_(mine)).order_by(O.c.id))
            events = [dict(r._mapping) for r in conn.execute(q)]
            subjects = {e["subject"] for e in events}
            threads = {r.subject: r.ref for r in conn.execute(
                select(T.c.subject, T.c.ref).where(T.c.consumer == consumer,
                                                   T.c.subject.in_(subjects)))}
        for e in events:
            e["thread"] = threads.get(e["subject"])
        return events

    def _mine(self, consumer: str, event_id: int, holder: str):
        return (D.c.consumer == consumer, D.c.event_id == event_id, D.c.state == CLAIMED,
                D.c.holder == holder)

    def delivered(self, consumer: str, event_id: int, holder: str, *,
                  result: dict | None = None, thread: dict | None = None) -> bool:
        """Record a delivery (and the subject's own message, if it now has one) in one
        transaction. False if `holder` no longer holds it: its lease ran out and another
        notifier claimed it (which will find the posted message by its metadata)."""
        now = time.time()
        with self._e.write.begin() as conn:
            got = conn.execute(update(D).where(*self._mine(consumer, event_id, holder))
                               .values(state=DELIVERED, delivered_at=now, result=result,
                                       lease_until=None, last_error=None)).rowcount
            if got and thread is not None:
                subject = conn.execute(select(D.c.subject).where(
                    D.c.consumer == consumer, D.c.event_id == event_id)).scalar_one()
                key = (T.c.consumer == consumer, T.c.subject == subject)
                if not conn.execute(update(T).where(*key).values(ref=thread,
                                                                 updated_at=now)).rowcount:
                    conn.execute(insert(T).values(consumer=consumer, subject=subject,
                                                  ref=thread, updated_at=now))
            return bool(got)

    def failed(self, consumer: str, event_id: int, holder: str, *, error: str, policy,
               retry_after_s: float | None = None) -> dict[str, Any] | None:
        """Back off (or dead-letter after policy.max_attempts); None if not held by holder."""
        now = time.time()
        with self._e.write.begin() as conn:
            attempts = conn.execute(select(D.c.attempts).where(
                *self._mine(consumer, event_id, holder))).scalar()
            if attempts is None:
                return None
            dead = attempts >= policy.max_attempts
            next_at = now + backoff_s(attempts, policy, retry_after_s)
            conn.execute(update(D).where(*self._mine(consumer, event_id, holder)).values(
                state=DEAD if dead else PENDING, holder=None, lease_until=None,
                next_at=next_at, last_error=error[:1000]))
            if dead:
                audit.record(conn, actor=holder, action="outbox.dead_letter",
                             target=f"outbox:{consumer}:{event_id}",
                             detail={"attempts": attempts, "error": error[:300]})
            return {"state": DEAD if dead else PENDING, "attempts": attempts,
                    "next_at": next_at}

    def release(self, consumer: str, event_ids: list[int], holder: str) -> int:
        """Give back claims not attempted (a subject's later events after a failure)."""
        if not event_ids:
            return 0
        with self._e.write.begin() as conn:
            return conn.execute(
                update(D).where(D.c.consumer == consumer, D.c.event_id.in_(event_ids),
                                D.c.state == CLAIMED, D.c.holder == holder)
                .values(state=PENDING, holder=None, lease_until=None,
                        attempts=D.c.attempts - 1)).rowcount

    def counts(self) -> list[tuple[str, str, int, float]]:
        """(consumer, state, deliveries, oldest event's time) per consumer and state: the
        backlog and dead letters an operator alerts on."""
        q = (select(D.c.consumer, D.c.state, func.count(), func.min(O.c.at))
             .join(O, O.c.id == D.c.event_id).group_by(D.c.consumer, D.c.state))
        with self._e.read.connect() as conn:
            return [(c, st, int(n), float(at)) for c, st, n, at in conn.execute(q)]

    def deliveries(self, *, consumer: str | None = None, state: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        """Delivery rows, newest first, with their event's kind and subject."""
        q = (select(D, O.c.kind, O.c.at).join(O, O.c.id == D.c.event_id)
             .order_by(D.c.event_id.desc()).limit(limit))
        if consumer:
            q = q.where(D.c.consumer == consumer)
        if state:
            q = q.where(D.c.state == state)
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def replay(self, *, consumer: str, actor: str, event_ids: list[int] | None = None) -> int:
        """Dead-lettered deliveries back to pending (all of the consumer's, or those
        listed), with their attempts reset; audited."""
        where = [D.c.consumer == consumer, D.c.state == DEAD]
        if event_ids is not None:
            where.append(D.c.event_id.in_(event_ids))
        with self._e.write.begin() as conn:
            ids = [r.event_id for r in conn.execute(select(D.c.event_id).where(*where))]
            if ids:
                conn.execute(update(D).where(*where, D.c.event_id.in_(ids)).values(
                    state=PENDING, attempts=0, next_at=time.time(), holder=None,
                    lease_until=None))
                audit.record(conn, actor=actor, action="outbox.replay",
                             target=f"outbox:{consumer}", detail={"events": ids})
            return len(ids)

    def thread(self, consumer: str, subject: str) -> dict | None:
        with self._e.read.connect() as conn:
            return conn.execute(select(T.c.ref).where(T.c.consumer == consumer,
                                                      T.c.subject == subject)).scalar()
