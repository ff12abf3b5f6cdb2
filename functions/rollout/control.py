"""`rollout`: start, pause, resume, promote, abort a progressive rollout, or read its status.

`start` deploys the candidate as its own Serve app, then records the rollout; the
controller (ticked by the scheduler) moves it through its steps. Every other action is a
command to the controller, checked against the rollout's current status.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from fleet import function, messages
from fleet.config import load_settings
from fleet.errors import FieldProblem, InvalidInput
from fleet.rollouts import RolloutSpec
from fleet.services import in_invocation
from serve_apps.model import ServingOptions, deploy_version


class RolloutRequest(BaseModel):
    action: Literal["start", "pause", "resume", "promote", "abort", "status"] = "status"
    endpoint: str
    model: str | None = Field(None, description="start: the candidate, name:version/@alias.")
    id: str | None = Field(None, description="The rollout; default: the endpoint's latest.")
    spec: RolloutSpec = Field(default_factory=RolloutSpec)
    serving: ServingOptions = Field(default_factory=ServingOptions)


class RolloutResult(BaseModel):
    rollout: dict[str, Any]
    events: list[dict[str, Any]]


def _view(svc, who, rid: str) -> RolloutResult:
    view = svc.rollouts.describe(who, rid)
    events = [{k: e[k] for k in ("at", "kind", "from_status", "to_status", "step", "weight",
                                 "actor", "detail")} for e in view.pop("events")]
    return RolloutResult(rollout=view, events=events)


def _needs(req: RolloutRequest) -> tuple[str, str] | None:
    """Every action but `status` changes what the endpoint serves: a role that grants
    `rollout` on it (fleet.config.roles)."""
    return None if req.action == "status" else ("rollout", f"endpoint:{req.endpoint}")


@function(cpus=0.1, timeout_s=900, retries=0, requires=_needs)
def rollout(req: RolloutRequest) -> RolloutResult:
    """Start or steer a progressive rollout (canary, shadow or bandit) on an endpoint."""
    settings = load_settings()
    svc, who = in_invocation(settings)
    if req.action == "start":
        if not req.model:
            raise InvalidInput(messages.ROLLOUT_NEEDS_MODEL, [FieldProblem(
                "model", "missing", "Pass model=NAME:VERSION (or NAME@ALIAS).")])
        svc.endpoints.get(who, req.endpoint)  # an unknown endpoint before an unknown model
        version = svc.models.version(who, req.model)
        ro = svc.rollouts.start(
            who, endpoint=req.endpoint, candidate=version, spec=req.spec,
            deploy=lambda: deploy_version(settings, version.model, version.version,
                                          req.serving))
    else:
        ro = svc.rollouts.command(who, endpoint=req.endpoint, action=req.action, rid=req.id)
    return _view(svc, who, ro.id)
