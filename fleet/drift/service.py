"""Drift, as a service: every entry point (the gateway's /v1/drift routes, `fleet drift`,
the demo) reads reports and alert state and acts on an alert here, as an identity. The
checks themselves run as the `drift_check` function; the actions' rules are in
fleet.drift.actions; the rows in fleet.store.drift."""

from __future__ import annotations

from typing import Any

from fleet import messages, permissions
from fleet.config import Settings
from fleet.drift.actions import DriftActions
from fleet.errors import NotFound
from fleet.identity import Identity
from fleet.store import Approval, Store
from fleet.store.drift import new_report_id

# The role verb each action needs on the endpoint (fleet.config.roles).
ACTION_VERBS = {"retrain": "retrain", "rollback": "rollout"}


class Drift:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.actions = DriftActions(store, settings)

    def latest(self, who: Identity, endpoint: str) -> dict[str, Any]:
        """The endpoint's newest report (a clear "no report yet" when none)."""
        who.require("read")
        return self.store.drift.latest(endpoint)

    def alert(self, who: Identity, endpoint: str) -> dict[str, Any]:
        """The endpoint's alert state: its open alert, its snooze."""
        who.require("read")
        return self.store.drift.alert(endpoint)

    def history(self, who: Identity, endpoint: str, *, limit: int = 50) -> list[dict]:
        """Scores over time, oldest first."""
        who.require("read")
        return self.store.drift.history(endpoint, limit=limit)

    def report(self, who: Identity, endpoint: str, report_id: str) -> dict[str, Any]:
        """One report, reached through its own endpoint only."""
        who.require("read")
        r = self.store.drift.get(report_id)
        if r["endpoint"] != endpoint:
            raise NotFound(messages.UNKNOWN_DRIFT_REPORT.format(id=report_id))
        return r

    def plot_uri(self, who: Identity, endpoint: str, report_id: str, name: str) -> str:
        """Where a report's plot is stored: `summary`, or a drifted column's name."""
        uri = (self.report(who, endpoint, report_id).get("plots") or {}).get(name)
        if uri is None:
            raise NotFound(messages.DRIFT_NO_PLOT.format(name=name, id=report_id))
        return uri

    def request(self, who: Identity, endpoint: str, action: str) -> Approval:
        """Ask to retrain or roll back (a role that grants `retrain`, or `rollout`, on the
        endpoint): an approval that runs it once someone else approves."""
        who.require("invoke")
        verb = ACTION_VERBS.get(action)
        if verb is not None:  # an unknown action is refused by the request itself (422)
            permissions.require(self.settings, who, verb, f"endpoint:{endpoint}")
        return self.actions.request(endpoint, action, who)

    def snooze(self, who: Identity, endpoint: str, hours: float) -> dict[str, Any]:
        """Hold the endpoint's alerts for `hours` (0 lifts a snooze): a role that grants
        `snooze` on the endpoint."""
        who.require("invoke")
        permissions.require(self.settings, who, "snooze", f"endpoint:{endpoint}")
        return self.actions.snooze(endpoint, hours, who)

    @staticmethod
    def new_report_id() -> str:
        return new_report_id()

    def save_report(self, who: Identity, **report: Any) -> dict[str, Any]:
        """Store a drift check's report (fleet.store.drift.DriftRepo.save's fields), with the
        caller as its actor; a drifted one raises the endpoint's alert there unless it is
        snoozed or an earlier alert waits."""
        who.require("invoke")
        return self.store.drift.save(**report, actor=who.name)

    def labels(self, who: Identity, endpoint: str, versions: list[str], since: float,
               until: float) -> list[tuple[str, int, Any]]:
        """(request_id, row, label) for the answers `versions` of `endpoint` gave in the
        window: what a check joins with the logged predictions."""
        who.require("read")
        return self.store.labels.window(endpoint, versions, since, until)

    def receive_alerts(self, who: Identity, alerts: list[dict], *,
                       external_url: str | None) -> int:
        """Alertmanager's firing and resolved alerts (the notify scope); repeats are
        no-ops. Returns how many events they made."""
        who.require("notify")
        return self.store.alerts.receive(alerts, external_url=external_url)


__all__ = ["Drift"]
