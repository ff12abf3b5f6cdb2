"""Invocation rows: create (idempotently), compare-and-set transitions, queries, aggregates."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from fleet import messages
from fleet.errors import Conflict, NotFound
from fleet.store import audit
from fleet.store.engine import Engines
from fleet.store.records import ACTIVE, Invocation, Status, sources_of
from fleet.store.schema import invocations as T

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


def new_id() -> str:
    return f"inv_{uuid.uuid4().hex}"


class InvocationRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def create(self, *, function: str, payload: Any, caller: str, via: str,
               timeout_s: float, retries: int, idempotency_key: str | None = None,
               ray_job_id: str | None = None) -> tuple[Invocation, bool]:
        """Insert a queued invocation, audited. With a known idempotency key, return the
        earlier invocation instead (created=False); a key reused for another function is a
        conflict, not a silent match."""
        row = dict(id=new_id(), function=function, status=Status.QUEUED.value, via=via,
                   caller=caller, idempotency_key=idempotency_key, ray_job_id=ray_job_id,
                   payload=payload, attempts=0, timeout_s=timeout_s, retries=retries,
                   created_at=time.time())
        try:
            with self._e.write.begin() as conn:
                conn.execute(insert(T).values(**row))
                audit.record(conn, actor=caller, action="invocation.create", target=row["id"],
                             detail={"function": function, "via": via,
                                     "idempotency_key": idempotency_key})
        except IntegrityError:
            if idempotency_key is None:
                raise
            earlier = self.by_idempotency_key(idempotency_key)
            if earlier is None:  # deleted in between: extremely unlikely, surface it
                raise
            if earlier.function != function:
                raise Conflict(messages.IDEMPOTENCY_KEY_REUSED.format(
                    key=idempotency_key, other=earlier.function)) from None
            return earlier, False
        return Invocation(**{k: row.get(k) for k in Invocation.__dataclass_fields__
                             if k != "status"}, status=Status.QUEUED), True

    def by_idempotency_key(self, key: str) -> Invocation | None:
        with self._e.read.connect() as conn:
            r = conn.execute(select(T).where(T.c.idempotency_key == key)).first()
        return Invocation.from_row(r) if r else None

    def get(self, inv_id: str) -> Invocation:
        with self._e.read.connect() as conn:
            r = conn.execute(select(T).where(T.c.id == inv_id)).first()
        if r is None:
            raise NotFound(messages.UNKNOWN_INVOCATION.format(id=inv_id))
        return Invocation.from_row(r)

    def list(self, *, function: str | None = None, status: str | None = None,
             via: str | None = None, limit: int = 50) -> list[Invocation]:
        q = select(T).order_by(T.c.created_at.desc()).limit(limit)
        if function:
            q = q.where(T.c.function == function)
        if status:
            q = q.where(T.c.status == status)
        if via:
            q = q.where(T.c.via == via)
        with self._e.read.connect() as conn:
            return [Invocation.from_row(r) for r in conn.execute(q)]

    def active(self) -> list[Invocation]:
        q = select(T).where(T.c.status.in_([s.value for s in ACTIVE]))
        with self._e.read.connect() as conn:
            return [Invocation.from_row(r) for r in conn.execute(q)]

    def mark_running(self, inv_id: str) -> int | None:
        """A worker starts an attempt: queued|running -> running, attempts + 1.

        Returns the attempt number, or None if the invocation already ended (cancelled
        while it waited for resources), in which case the worker must not run it."""
        now = time.time()
        with self._e.write.begin() as conn:
            res = conn.execute(
                update(T)
                .where(T.c.id == inv_id, T.c.status.in_(sources_of(Status.RUNNING)))
                .values(status=Status.RUNNING.value, attempts=T.c.attempts + 1,
                        started_at=func.coalesce(T.c.started_at, now))
                .returning(T.c.attempts)
            ).first()
        return res[0] if res else None

    def finish(self, inv_id: str, status: Status, *, result: Any = None,
               error_type: str | None = None, error_message: str | None = None,
               error_traceback: str | None = None, actor: str | None = None,
               only_from: tuple[Status, ...] | None = None) -> bool:
        """Move to a terminal status if the invocation is still active (compare-and-set).

        Returns False when another party ended it first (e.g. cancel raced completion);
        the first writer wins and the loser changes nothing. `only_from` narrows the
        allowed sources (a timeout says "never started" only if it is still queued)."""
        assert status.terminal
        sources = sources_of(status)
        if only_from is not None:
            sources = tuple(s for s in sources if Status(s) in only_from)
        now = time.time()
        with self._e.write.begin() as conn:
            res = conn.execute(
                update(T)
                .where(T.c.id == inv_id, T.c.status.in_(sources))
                .values(status=status.value, result=result, error_type=error_type,
                        error_message=error_message, error_traceback=error_traceback,
                        finished_at=now,
                        duration_s=now - func.coalesce(T.c.started_at, T.c.created_at),
                        cancel_requested_by=actor if status is Status.CANCELLED else None)
            )
            if res.rowcount != 1:
                return False
            if status is Status.CANCELLED and actor:
                audit.record(conn, actor=actor, action="invocation.cancel", target=inv_id)
        return True

    # -- aggregates for /metrics: derived from the store, so they cover every entry point
    #    and every process, and survive restarts of the gateway.

    def counts(self) -> list[tuple[str, str, str, int]]:
        q = select(T.c.function, T.c.status, T.c.via, func.count()).group_by(
            T.c.function, T.c.status, T.c.via)
        with self._e.read.connect() as conn:
            return [tuple(r) for r in conn.execute(q)]

    def duration_histogram(self) -> list[tuple[str, list[int], int, float]]:
        """Per function: cumulative bucket counts, total count and sum of finished runs."""
        cols = [func.sum(case((T.c.duration_s <= b, 1), else_=0)) for b in DURATION_BUCKETS]
        q = (select(T.c.function, *cols, func.count(), func.sum(T.c.duration_s))
             .where(T.c.duration_s.is_not(None)).group_by(T.c.function))
        with self._e.read.connect() as conn:
            out = []
            for r in conn.execute(q):
                out.append((r[0], [int(x or 0) for x in r[1:-2]], int(r[-2]), float(r[-1] or 0)))
            return out
