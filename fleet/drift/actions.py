"""What a person can do about a drift alert: retrain, roll back, snooze.

Retrain and roll back change what serves traffic, so each opens an approval (gate
`action`) in the requester's name; approving it runs the function as the requester
(fleet.approvals). Asking answers the alert, in the same transaction, so the next drift
alerts again. Snooze holds the endpoint's alerts for N hours.

- Retrain: `train` with the serving version's recorded params, reading the data at the
  recorded URI as it is now (tables refreshed in place are the common case), registered
  under the same model name as a new version.
- Roll back: a one-step rollout back to the version the last finished rollout replaced.
"""

from __future__ import annotations

from typing import Any

from fleet import messages
from fleet.config import Settings
from fleet.errors import Conflict, FieldProblem, InvalidInput
from fleet.identity import Identity
from fleet.serving.routing import primary_arm
from fleet.store import Approval, Store

ACTIONS = ("retrain", "rollback")
ROLLBACK_SPEC = {"steps": [100], "interval_s": 5, "hold_s": 0}


def serving(store: Store, endpoint: str) -> tuple[str, int]:
    """(model, version) taking most of the endpoint's traffic."""
    top = primary_arm(endpoint, store.endpoints.get(endpoint).routing)
    return top.model, top.version


def previous(store: Store, endpoint: str, current: tuple[str, int]) -> tuple[str, int]:
    """The version the endpoint served before `current` came in by a rollout."""
    for ro in store.rollouts.list(endpoint=endpoint, limit=50):
        cand = (ro.candidate or {})
        if (ro.status == "succeeded" and ro.baseline
                and (cand.get("model"), cand.get("version")) == current):
            return ro.baseline["model"], ro.baseline["version"]
    raise Conflict(messages.DRIFT_NO_PREVIOUS.format(endpoint=endpoint,
                                                     version=f"{current[0]}:{current[1]}"))


class DriftActions:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def request(self, endpoint: str, action: str, who: Identity) -> Approval:
        """Open the approval that runs `action` for `endpoint` once approved."""
        who.require("invoke")
        if action not in ACTIONS:
            raise InvalidInput(messages.DRIFT_BAD_ACTION.format(action=action), [FieldProblem(
                "action", "unknown", f"Use one of {', '.join(ACTIONS)}.")])
        model, version = serving(self.store, endpoint)
        if action == "retrain":
            run = self._retrain(model, version)
            summary = messages.DRIFT_RETRAIN_SUMMARY.format(
                endpoint=endpoint, model=model, version=version, data=run["input"]["data"])
        else:
            before = previous(self.store, endpoint, (model, version))
            run = {"function": "rollout", "input": {
                "action": "start", "endpoint": endpoint, "model": f"{before[0]}:{before[1]}",
                "spec": ROLLBACK_SPEC}}
            summary = messages.DRIFT_ROLLBACK_SUMMARY.format(
                endpoint=endpoint, current=f"{model}:{version}",
                previous=f"{before[0]}:{before[1]}")
        cfg = self.settings.approvals
        aid = self.store.drift.request_action(endpoint, action=action, actor=who.name,
                                              approval=dict(
            gate="action", target=f"endpoint:{endpoint}", summary=summary, role=cfg.role,
            ttl_s=cfg.ttl_s, payload={"action": action, "endpoint": endpoint, **run}))
        return self.store.approvals.get(aid)

    def _retrain(self, model: str, version: int) -> dict[str, Any]:
        mv = self.store.models.get(model, version)
        params = {k: v for k, v in (mv.params or {}).items() if v is not None}
        if not params.get("data"):
            raise Conflict(messages.DRIFT_NO_RETRAIN.format(model=model, version=version))
        params.pop("run_id", None)
        params["model_name"] = model
        return {"function": "train", "input": params}

    def snooze(self, endpoint: str, hours: float, who: Identity) -> dict[str, Any]:
        who.require("invoke")
        self.store.endpoints.get(endpoint)  # a clear 404 for a wrong name
        return self.store.drift.snooze(endpoint, hours, actor=who.name)
