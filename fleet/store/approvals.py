"""Approval requests and their decisions, as rows: a request names a gate, a target, a
requester, a role and an expiry; `settle` records a decision as one compare-and-set. Who
may decide is policy, and lives in `fleet.approvals`. Every decision and refusal is
audited; requests and decisions go to the outbox for notifiers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput, NotFound
from fleet.store import audit, outbox
from fleet.store.engine import Engines
from fleet.store.ids import find_row
from fleet.store.schema import approvals as P

GATES = ("start", "step", "promotion", "alias", "action")  # action: run a function
PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"


@dataclass(frozen=True)
class Approval:
    id: str
    gate: str
    target: str
    summary: str
    requested_by: str
    role: str
    payload: dict | None
    status: str
    decided_by: str | None
    comment: str | None
    created_at: float
    expires_at: float
    decided_at: float | None

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def request_approval(conn: Connection, *, gate: str, target: str, summary: str,
                     requested_by: str, role: str, ttl_s: float,
                     payload: dict | None = None, parties: list[str] | tuple = ()) -> str:
    """Create a pending request inside the caller's transaction; returns its id.
    `parties`: others who set the change in motion (a rollout's starter when someone else
    asks to promote it); like the requester, none of them may decide it."""
    if parties:
        payload = {**(payload or {}), "parties": sorted(set(parties) - {requested_by})}
    if gate not in GATES:
        raise InvalidInput(messages.UNKNOWN_GATE.format(gate=gate), [FieldProblem(
            "gate", "unknown", f"Use one of {', '.join(GATES)}.")])
    now = time.time()
    aid = "ap-" + uuid.uuid4().hex[:10]
    conn.execute(insert(P).values(id=aid, gate=gate, target=target, summary=summary,
                                  payload=payload, requested_by=requested_by, role=role,
                                  status=PENDING,
                                  created_at=now, expires_at=now + ttl_s))
    audit.record(conn, actor=requested_by, action="approval.request", target=f"approval:{aid}",
                 detail={"gate": gate, "target": target, "role": role, "ttl_s": ttl_s})
    outbox.emit(conn, kind="approval.requested", subject=f"approval:{aid}",
                payload={"id": aid, "gate": gate, "target": target, "summary": summary,
                         "requested_by": requested_by, "role": role,
                         "expires_at": now + ttl_s})
    return aid


class ApprovalRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def get(self, aid: str) -> Approval:
        """By id, or by a unique prefix of one."""
        with self._e.read.connect() as conn:
            r = find_row(conn, P, P.c.id, aid, "approval")
        if r is None:
            raise NotFound(messages.UNKNOWN_APPROVAL.format(id=aid))
        return Approval(**dict(r._mapping))

    def list(self, *, status: str | None = None, target: str | None = None,
             limit: int = 100) -> list[Approval]:
        q = select(P).order_by(P.c.created_at.desc()).limit(limit)
        if status:
            q = q.where(P.c.status == status)
        if target:
            q = q.where(P.c.target == target)
        with self._e.read.connect() as conn:
            return [Approval(**dict(r._mapping)) for r in conn.execute(q)]

    def create(self, **kw) -> Approval:
        with self._e.write.begin() as conn:
            aid = request_approval(conn, **kw)
        return self.get(aid)

    def record_refusal(self, aid: str, actor: str, reason: str) -> None:
        """Audit a refused decision (the policy lives in fleet.approvals, not here)."""
        with self._e.write.begin() as conn:
            audit.record(conn, actor=actor, action="approval.refused",
                         target=f"approval:{aid}", detail={"reason": reason})

    def settle(self, aid: str, *, approve: bool, actor: str, comment: str = "",
               now: float | None = None, detail: dict | None = None,
               effect: Callable[[Connection, Approval], None] | None = None) -> bool:
        """The decision as one compare-and-set: still pending AND not yet expired, so of two
        deciders exactly one wins, and nobody decides a request in the instant it expires.
        `effect(conn, approval)`, when approved, is the gated change made in the same
        transaction: both or neither (what it is, the approval service decides). False if
        it lost."""
        ap = self.get(aid)
        now = time.time() if now is None else now
        status = APPROVED if approve else REJECTED
        with self._e.write.begin() as conn:
            res = conn.execute(update(P).where(
                P.c.id == aid, P.c.status == PENDING, P.c.expires_at > now).values(
                status=status, decided_by=actor, comment=comment or None, decided_at=now))
            if res.rowcount != 1:
                return False
            if approve and effect is not None:
                effect(conn, ap)
            audit.record(conn, actor=actor, action=f"approval.{status}",
                         target=f"approval:{aid}",
                         detail={"gate": ap.gate, "target": ap.target, "comment": comment,
                                 **(detail or {})})
            outbox.emit(conn, kind="approval.decided", subject=f"approval:{aid}",
                        payload={"id": aid, "status": status, "decided_by": actor,
                                 "gate": ap.gate, "target": ap.target, "comment": comment})
        return True

    def expire(self, aid: str | None = None) -> list[str]:
        """Mark pending requests past their expiry as expired (one or all); audited."""
        now = time.time()
        q = select(P.c.id).where(P.c.status == PENDING, P.c.expires_at <= now)
        if aid:
            q = q.where(P.c.id == aid)
        with self._e.read.connect() as conn:  # most ticks find none: no write lock then
            due = [pid for (pid,) in conn.execute(q).all()]
        done = []
        if not due:
            return done
        with self._e.write.begin() as conn:
            for pid in due:
                if conn.execute(update(P).where(P.c.id == pid, P.c.status == PENDING)
                                .values(status=EXPIRED, decided_at=now)).rowcount:
                    audit.record(conn, actor="fleet", action="approval.expired",
                                 target=f"approval:{pid}")
                    outbox.emit(conn, kind="approval.decided", subject=f"approval:{pid}",
                                payload={"id": pid, "status": EXPIRED})
                    done.append(pid)
        return done
