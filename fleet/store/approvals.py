"""Approvals: a request names a gate, a target, a requester, a role and an expiry; one
identity with that role, not the requester, decides it once. Every decision and every
refusal is audited; requests and decisions go to the outbox for notifiers."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from fleet import messages
from fleet.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from fleet.store import audit, outbox
from fleet.store.engine import Engines
from fleet.store.schema import approvals as P

GATES = ("start", "step", "promotion", "alias")
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
                     payload: dict | None = None) -> str:
    """Create a pending request inside the caller's transaction; returns its id."""
    if gate not in GATES:
        raise InvalidInput(f"Unknown approval gate '{gate}'.", [FieldProblem(
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
        with self._e.read.connect() as conn:
            r = conn.execute(select(P).where(P.c.id == aid)).first()
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

    def _refuse(self, aid: str, actor: str, reason: str, exc) -> None:
        with self._e.write.begin() as conn:
            audit.record(conn, actor=actor, action="approval.refused",
                         target=f"approval:{aid}", detail={"reason": reason})
        raise exc

    def decide(self, aid: str, *, actor: str, roles: frozenset[str] | set[str],
               approve: bool, comment: str = "") -> Approval:
        """Approve or reject: one compare-and-set on `pending`, so of two deciders at once
        exactly one wins and the other is told who did."""
        ap = self.get(aid)
        now = time.time()
        if ap.status != PENDING:
            self._refuse(aid, actor, "already decided", Conflict(
                messages.APPROVAL_DECIDED.format(id=aid, status=ap.status,
                                                 who=ap.decided_by or "expiry")))
        if now >= ap.expires_at:
            self.expire(aid)
            self._refuse(aid, actor, "expired", Conflict(
                messages.APPROVAL_EXPIRED.format(id=aid)))
        if actor == ap.requested_by:
            self._refuse(aid, actor, "self-approval", Forbidden(
                messages.APPROVAL_SELF.format(id=aid, who=actor)))
        if ap.role not in roles:
            self._refuse(aid, actor, f"missing role {ap.role}", Forbidden(
                messages.APPROVAL_ROLE.format(id=aid, who=actor, role=ap.role)))
        status = APPROVED if approve else REJECTED
        with self._e.write.begin() as conn:
            res = conn.execute(update(P).where(P.c.id == aid, P.c.status == PENDING).values(
                status=status, decided_by=actor, comment=comment or None, decided_at=now))
            if res.rowcount == 1 and approve and ap.gate == "alias" and ap.payload:
                # the gated action happens in the approval's transaction: both or neither
                from fleet.store.models import apply_alias_move

                p = ap.payload
                apply_alias_move(conn, model=p["model"], alias=p["alias"],
                                 version=p["version"], actor=ap.requested_by,
                                 reason=f"{p['reason']} (approved by {actor}, {aid})")
            if res.rowcount == 1:
                audit.record(conn, actor=actor, action=f"approval.{status}",
                             target=f"approval:{aid}",
                             detail={"gate": ap.gate, "target": ap.target, "comment": comment})
                outbox.emit(conn, kind="approval.decided", subject=f"approval:{aid}",
                            payload={"id": aid, "status": status, "decided_by": actor,
                                     "gate": ap.gate, "target": ap.target,
                                     "comment": comment})
        if res.rowcount != 1:  # lost the race
            won = self.get(aid)
            self._refuse(aid, actor, "already decided", Conflict(
                messages.APPROVAL_DECIDED.format(id=aid, status=won.status,
                                                 who=won.decided_by or "expiry")))
        return self.get(aid)

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
