"""The scheduler's clock, apart from the actor that drives it (so tests can race two): each
tick asks the services to do what is due. What a due slot does is the schedules service's
rule (fleet.schedules: run_due); approved actions whose run never started, the approvals
service's (fleet.approvals); sealing the audit log, the audit trail's (fleet.audit_trail).
"""

from __future__ import annotations

from fleet.runtime import Client
from fleet.schedules import Schedules, slot_key


class SchedulerCore:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.store = client.store
        self.schedules = Schedules(self.store, client.registry, client=client)
        self._approvals = None

    def sync_code_schedules(self) -> None:
        self.schedules.sync_from_code()

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
        return self.schedules.run_due(
            now, default_catchup=max(1, self.client.settings.scheduler.max_catchup))


__all__ = ["SchedulerCore", "slot_key"]
