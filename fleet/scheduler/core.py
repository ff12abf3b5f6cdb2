"""The scheduler's logic, apart from the actor that drives it (so tests can race two).

Each due slot becomes an invocation whose idempotency key names the schedule and the slot,
and the schedule's last_slot moves forward by compare-and-set. A scheduler that dies
between the two steps, or two schedulers ticking at once, therefore run each slot once.
Slots missed while no scheduler ran are run late (up to max_catchup per schedule); older
ones are written to the audit log as skipped, never dropped silently.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from fleet.cadence import parse_schedule
from fleet.runtime import Client
from fleet.store import audit

log = logging.getLogger("fleet.scheduler")


def slot_key(name: str, slot: float) -> str:
    iso = datetime.fromtimestamp(slot, tz=timezone.utc).isoformat(timespec="milliseconds")
    return f"schedule:{name}:{iso}"


class SchedulerCore:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.store = client.store
        self._approvals = None

    def sync_code_schedules(self) -> None:
        wanted = {spec.name: (spec.name, spec.schedule)
                  for spec in self.client.registry if spec.schedule}
        self.store.schedules.sync_from_code(wanted, actor="scheduler")

    def run_approved_actions(self) -> None:
        """Approved actions (retrain, roll back) whose run never started: the approver's
        process died between deciding and invoking. Each runs once (its approval's key)."""
        from fleet.approvals import Approvals

        if self._approvals is None:
            self._approvals = Approvals(self.store, self.client.settings,
                                        invoke=self.client.invoke)
        self._approvals.run_approved_actions()

    def seal_audit(self) -> int:
        """Chain the audit rows written since the last seal (fleet.audit_trail)."""
        from fleet.audit_trail import AuditTrail

        return AuditTrail(self.store).seal()

    def tick(self, now: float | None = None) -> list[str]:
        """Run every due slot once; returns the invocation ids started by this tick."""
        now = time.time() if now is None else now
        started: list[str] = []
        default_catchup = max(1, self.client.settings.scheduler.max_catchup)
        for sched in self.store.schedules.list():
            if not sched.enabled:
                continue
            due = parse_schedule(sched.spec).due(sched.last_slot or now, now)
            if not due:
                continue
            catchup = sched.max_catchup or default_catchup
            run, skipped = due[-catchup:], due[:-catchup]
            for slot in run:
                try:
                    inv = self.client.invoke(
                        sched.function, sched.payload, caller=f"schedule:{sched.name}",
                        via="schedule", own_key=slot_key(sched.name, slot), wait=False)
                    started.append(inv.id)
                except Exception as exc:  # a bad schedule must not stop the others
                    log.warning("schedule %s slot %s failed to start: %s", sched.name, slot, exc)
                    with self.store.engines.write.begin() as conn:
                        audit.record(conn, actor="scheduler", action="schedule.error",
                                     target=f"schedule:{sched.name}",
                                     detail={"slot": slot, "error": str(exc)[:500]})
            self.store.schedules.advance(sched.name, sched.last_slot, due[-1], skipped)
        return started
