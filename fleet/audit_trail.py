"""The audit trail, as a service: who changed what, when, as whom and with whose approval,
for `fleet audit` and `GET /v1/audit`. Every state change is audited in the transaction
that made it (fleet.store.audit); this module reads the trail for the admin scope and the
auditor role, answers "what served this endpoint at that time, since when, and who
approved it", seals new rows onto the hash chain (the scheduler, every tick) and verifies
the chain, naming any row that was edited or deleted."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any

from fleet import messages
from fleet.durations import UNITS, parse_duration
from fleet.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from fleet.identity import Identity, sees_all
from fleet.store import Store
from fleet.store.records import iso_time as iso

ROLLOUT_IN_REASON = re.compile(r"^rollout (ro-[0-9a-f]+)")


def parse_time(text: str | float | None, field: str, now: float | None = None
               ) -> float | None:
    """An epoch from an ISO time (UTC unless it names a zone), an epoch, or a duration ago
    (30m, 2h, 7d)."""
    if text is None or text == "":
        return None
    now = time.time() if now is None else now
    t = str(text).strip()
    try:
        if t[-1:] in UNITS and t[:-1].replace(".", "", 1).isdigit():
            return now - parse_duration(t, field)  # its bounds, its message
        if t.replace(".", "", 1).isdigit():
            return float(t)
        when = datetime.fromisoformat(t.replace("Z", "+00:00").replace(" ", "T", 1))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    except (ValueError, OverflowError):
        raise InvalidInput(messages.AUDIT_BAD_TIME.format(field=field, text=text), [
            FieldProblem(field, "not a time", "Use 2026-12-07T14:30:00Z, an epoch or 2h.")]
        ) from None


def public(row: dict[str, Any]) -> dict[str, Any]:
    """An audit row as the CLI and the API show it."""
    return {"id": row["id"], "at": iso(row["at"]), "actor": row["actor"],
            "action": row["action"], "resource": row["target"], "detail": row["detail"]}


class AuditTrail:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _allowed(who: Identity) -> None:
        if not sees_all(who):
            raise Forbidden(messages.AUDIT_NOT_ALLOWED.format(who=who.name))

    def entries(self, who: Identity, *, resource: str | None = None,
                actor: str | None = None, action: str | None = None,
                since: str | float | None = None, until: str | float | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
        """State changes, newest first: `resource` (e.g. endpoint:churn, model:churn,
        approval:apr_…) covers what is under it; `since`/`until`: a time, an epoch or a
        duration ago."""
        self._allowed(who)
        rows = self.store.audit.query(resource=resource, actor=actor, action=action,
                                      since=parse_time(since, "since"),
                                      until=parse_time(until, "until"), limit=limit)
        return [public(r) for r in rows]

    def serving(self, who: Identity, endpoint: str, at: str | float | None = None
                ) -> dict[str, Any]:
        """What served `endpoint` at `at` (default now): its routing table then, since when
        and who set it (and why), and the approvals that allowed the rollout that set it."""
        self._allowed(who)
        when = parse_time(at, "at") or time.time()
        self.store.endpoints.get(endpoint)  # a clear 404 for a wrong name
        rows = self.store.audit.query(resource=f"endpoint:{endpoint}", action="endpoint.routing",
                                      until=when, limit=1)
        if not rows:
            raise NotFound(messages.AUDIT_NOTHING_SERVED.format(endpoint=endpoint,
                                                                at=iso(when)))
        row = rows[0]
        detail = row["detail"] or {}
        reason = detail.get("reason", "")
        approvals = []
        m = ROLLOUT_IN_REASON.match(reason)
        if m:
            for ap in self.store.approvals.list(target=f"rollout:{m.group(1)}", limit=20):
                if ap.decided_at is not None and ap.decided_at <= row["at"] + 1e-6:
                    approvals.append({"id": ap.id, "gate": ap.gate, "status": ap.status,
                                      "decided_by": ap.decided_by,
                                      "decided_at": iso(ap.decided_at)})
        return {"endpoint": endpoint, "at": iso(when), "since": iso(row["at"]),
                "set_by": row["actor"], "reason": reason,
                "versions": [{"model": v["model"], "version": v["version"],
                              "weight": v["weight"]}
                             for v in (detail.get("routing") or {}).get("versions", [])],
                "rollout": m.group(1) if m else None, "approvals": approvals,
                "audit_id": row["id"]}

    def verify(self, who: Identity) -> dict[str, Any]:
        """Recompute the hash chain over every sealed row (see fleet.store.audit)."""
        self._allowed(who)
        return self.store.audit.verify()

    def seal(self) -> int:
        """Chain the rows written since the last seal (the scheduler calls this)."""
        return self.store.audit.seal()


__all__ = ["AuditTrail", "iso", "parse_time", "public"]
