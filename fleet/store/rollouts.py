"""Rollouts and their events. Every change is `transition`: one compare-and-set on the
rollout's revision that, in the same transaction, may rewrite the endpoint's routing table,
open an approval request, release the endpoint, and always writes an event, an audit entry
and an outbox entry. Two controllers, or a controller restarted mid-tick, can therefore
never apply a step twice: the second writer finds the revision moved and changes nothing."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from fleet import messages
from fleet.errors import Conflict, NotFound
from fleet.store import audit, outbox
from fleet.store.approvals import request_approval
from fleet.store.endpoints import write_routing
from fleet.store.engine import Engines
from fleet.store.ids import find_row
from fleet.store.schema import endpoints as E
from fleet.store.schema import rollout_events as EV
from fleet.store.schema import rollouts as R

ACTIVE_STATUSES = ("pending", "awaiting_approval", "progressing", "paused", "promoting",
                   "rolling_back")
FINAL_STATUSES = ("succeeded", "rolled_back", "failed")


@dataclass(frozen=True)
class Rollout:
    id: str
    endpoint: str
    strategy: str
    status: str
    baseline: dict | None
    candidate: dict
    spec: dict
    step: int
    failed_checks: int
    state: dict
    next_at: float
    revision: int
    created_by: str
    created_at: float
    updated_at: float
    finished_at: float | None
    retired_at: float | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def weight(self) -> float:
        steps = self.spec.get("steps", [])
        return float(steps[self.step]) if 0 <= self.step < len(steps) else 0.0

    def public(self) -> dict[str, Any]:
        return {**self.__dict__, "weight": self.weight}


@dataclass
class Change:
    """What one transition does besides moving the status."""

    kind: str  # the event kind: started, step, check, approval, paused, rolled_back, ...
    to_status: str | None = None
    step: int | None = None
    failed_checks: int | None = None
    state: dict | None = None  # merged into the stored state
    next_at: float | None = None
    routing: dict | None = None  # new routing table for the endpoint
    approval: dict | None = None  # gate, summary, role, ttl_s: open a request
    release_endpoint: bool = False
    retired: bool = False  # what this finished rollout left behind is retired
    detail: dict = field(default_factory=dict)


class RolloutRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def create(self, *, endpoint: str, strategy: str, baseline: dict | None, candidate: dict,
               spec: dict, actor: str) -> Rollout:
        """Start tracking a rollout; refused while the endpoint has an active one."""
        rid = "ro-" + uuid.uuid4().hex[:10]
        now = time.time()
        with self._e.write.begin() as conn:
            res = conn.execute(update(E).where(E.c.name == endpoint,
                                               E.c.active_rollout.is_(None))
                               .values(active_rollout=rid))
            if res.rowcount != 1:
                row = conn.execute(select(E.c.active_rollout).where(
                    E.c.name == endpoint)).first()
                if row is None:
                    raise NotFound(messages.UNKNOWN_ENDPOINT.format(name=endpoint))
                raise Conflict(messages.ROLLOUT_ACTIVE.format(endpoint=endpoint, id=row[0]))
            conn.execute(insert(R).values(
                id=rid, endpoint=endpoint, strategy=strategy, status="pending",
                baseline=baseline, candidate=candidate, spec=spec, step=-1, failed_checks=0,
                state={}, next_at=now, revision=0, created_by=actor, created_at=now,
                updated_at=now))
            self._event(conn, rid, "created", None, "pending", -1, None,
                        {"candidate": candidate, "baseline": baseline, "spec": spec}, actor)
            audit.record(conn, actor=actor, action="rollout.create", target=f"rollout:{rid}",
                         detail={"endpoint": endpoint, "candidate": candidate})
            outbox.emit(conn, kind="rollout.created", subject=f"rollout:{rid}",
                        payload={"id": rid, "endpoint": endpoint, "strategy": strategy,
                                 "candidate": candidate, "baseline": baseline,
                                 "steps": spec.get("steps"), "by": actor})
        return self.get(rid)

    @staticmethod
    def _event(conn, rid, kind, from_s, to_s, step, weight, detail, actor) -> None:
        conn.execute(insert(EV).values(rollout_id=rid, at=time.time(), kind=kind,
                                       from_status=from_s, to_status=to_s, step=step,
                                       weight=weight, detail=detail, actor=actor))

    def get(self, rid: str) -> Rollout:
        """By id, or by a unique prefix of one."""
        with self._e.read.connect() as conn:
            r = find_row(conn, R, R.c.id, rid, "rollout")
        if r is None:
            raise NotFound(messages.UNKNOWN_ROLLOUT.format(id=rid))
        return Rollout(**dict(r._mapping))

    def list(self, *, endpoint: str | None = None, active: bool | None = None,
             limit: int = 50) -> list[Rollout]:
        q = select(R).order_by(R.c.created_at.desc()).limit(limit)
        if endpoint:
            q = q.where(R.c.endpoint == endpoint)
        if active is True:
            q = q.where(R.c.status.in_(ACTIVE_STATUSES))
        with self._e.read.connect() as conn:
            return [Rollout(**dict(r._mapping)) for r in conn.execute(q)]

    def unretired(self) -> list[Rollout]:
        """Finished rollouts whose leftover versions are not retired yet, oldest first."""
        q = (select(R).where(R.c.status.in_(FINAL_STATUSES), R.c.retired_at.is_(None))
             .order_by(R.c.finished_at))
        with self._e.read.connect() as conn:
            return [Rollout(**dict(r._mapping)) for r in conn.execute(q)]

    def due(self, now: float | None = None) -> list[Rollout]:
        now = time.time() if now is None else now
        q = (select(R).where(R.c.status.in_(ACTIVE_STATUSES), R.c.next_at <= now)
             .order_by(R.c.next_at))
        with self._e.read.connect() as conn:
            return [Rollout(**dict(r._mapping)) for r in conn.execute(q)]

    def events(self, rid: str) -> list[dict[str, Any]]:
        q = select(EV).where(EV.c.rollout_id == rid).order_by(EV.c.id)
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def transition(self, ro: Rollout, change: Change, *, actor: str) -> Rollout | None:
        """Apply `change` if `ro` is still the stored revision; None if it moved meanwhile."""
        now = time.time()
        to_status = change.to_status or ro.status
        step = ro.step if change.step is None else change.step
        state = {**ro.state, **(change.state or {})}
        with self._e.write.begin() as conn:
            values = dict(status=to_status, step=step, state=state, revision=ro.revision + 1,
                          updated_at=now,
                          next_at=change.next_at if change.next_at is not None else ro.next_at)
            if change.failed_checks is not None:
                values["failed_checks"] = change.failed_checks
            if change.retired:
                values["retired_at"] = now
            if to_status in FINAL_STATUSES and ro.status not in FINAL_STATUSES:
                values["finished_at"] = now
            res = conn.execute(update(R).where(R.c.id == ro.id, R.c.revision == ro.revision)
                               .values(**values))
            if res.rowcount != 1:
                return None  # nothing written: the transaction commits empty
            if change.approval:
                # a person's promote asks in that person's name; the controller's own gates
                # in the starter's. Either way the starter is a party: neither decides it.
                ask = {"requested_by": ro.created_by, **change.approval}
                ask["parties"] = sorted({ro.created_by, *ask.get("parties", ())})
                aid = request_approval(conn, target=f"rollout:{ro.id}", **ask)
                state["approval_id"] = aid
                change.detail = {**change.detail, "approval_id": aid}
                conn.execute(update(R).where(R.c.id == ro.id).values(state=state))
            if change.routing is not None:
                write_routing(conn, name=ro.endpoint, routing=change.routing, actor=actor,
                              reason=f"rollout {ro.id}: {change.kind}")
            if change.release_endpoint or to_status in FINAL_STATUSES:
                conn.execute(update(E).where(E.c.name == ro.endpoint,
                                             E.c.active_rollout == ro.id)
                             .values(active_rollout=None))
            steps = ro.spec.get("steps", [])
            weight = float(steps[step]) if 0 <= step < len(steps) else None
            self._event(conn, ro.id, change.kind, ro.status, to_status, step, weight,
                        change.detail, actor)
            if to_status != ro.status or change.kind != "check":
                audit.record(conn, actor=actor, action=f"rollout.{change.kind}",
                             target=f"rollout:{ro.id}",
                             detail={"from": ro.status, "to": to_status, "step": step,
                                     "weight": weight, **change.detail})
            outbox.emit(conn, kind=f"rollout.{change.kind}", subject=f"rollout:{ro.id}",
                        payload={"id": ro.id, "endpoint": ro.endpoint, "from": ro.status,
                                 "to": to_status, "step": step, "weight": weight,
                                 "candidate": ro.candidate, **change.detail})
        return self.get(ro.id)
