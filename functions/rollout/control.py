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
from fleet.errors import Conflict, FieldProblem, InvalidInput, NotFound
from fleet.rollouts import RolloutSpec, build_controller
from fleet.runtime import context
from fleet.serving.routing import primary_arm
from fleet.store import open_store
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


def _view(store, rid: str) -> RolloutResult:
    ro = store.rollouts.get(rid)
    events = [{k: e[k] for k in ("at", "kind", "from_status", "to_status", "step", "weight",
                                 "actor", "detail")} for e in store.rollouts.events(ro.id)]
    return RolloutResult(rollout=ro.public(), events=events)


def _baseline(store, endpoint: str) -> dict:
    top = primary_arm(endpoint, store.endpoints.get(endpoint).routing)
    return {"model": top.model, "version": top.version, "app": top.app}


def _needs(req: RolloutRequest) -> tuple[str, str] | None:
    """Every action but `status` changes what the endpoint serves: a role that grants
    `rollout` on it (fleet.config.roles)."""
    return None if req.action == "status" else ("rollout", f"endpoint:{req.endpoint}")


@function(cpus=0.1, timeout_s=900, retries=0, requires=_needs)
def rollout(req: RolloutRequest) -> RolloutResult:
    """Start or steer a progressive rollout (canary, shadow or bandit) on an endpoint."""
    settings = load_settings()
    store = open_store(settings.resolved_store_url)
    who = context.caller()
    if req.action == "start":
        if not req.model:
            raise InvalidInput(messages.ROLLOUT_NEEDS_MODEL, [FieldProblem(
                "model", "missing", "Pass model=NAME:VERSION (or NAME@ALIAS).")])
        ep = store.endpoints.get(req.endpoint)
        if ep.active_rollout:
            raise Conflict(messages.ROLLOUT_ACTIVE.format(endpoint=req.endpoint,
                                                          id=ep.active_rollout))
        baseline = _baseline(store, req.endpoint)
        version = store.models.resolve(req.model)
        if (version.model, version.version) == (baseline["model"], baseline["version"]):
            raise InvalidInput(messages.ROLLOUT_SAME_VERSION.format(
                version=f"{version.model}:{version.version}", endpoint=req.endpoint),
                [FieldProblem("model", "same as the serving version",
                              "Pass the new version to roll out.")])
        ro = build_controller(settings, store).start(
            endpoint=req.endpoint, baseline=baseline,
            candidate=(version.model, version.version), spec=req.spec, actor=who,
            deploy=lambda: deploy_version(settings, version.model, version.version,
                                          req.serving))
        return _view(store, ro.id)
    rid = req.id
    if rid is None:
        found = store.rollouts.list(endpoint=req.endpoint, limit=1)
        if not found:
            raise NotFound(messages.ENDPOINT_HAS_NO_ROLLOUTS.format(endpoint=req.endpoint))
        rid = found[0].id
    elif store.rollouts.get(rid).endpoint != req.endpoint:  # the role was checked for this one
        raise InvalidInput(messages.ROLLOUT_OTHER_ENDPOINT.format(
            id=rid, endpoint=req.endpoint), [FieldProblem(
                "id", "another endpoint's", "Name the rollout's own endpoint.")])
    if req.action != "status":
        build_controller(settings, store).command(store.rollouts.get(rid), req.action,
                                                  actor=who)
    return _view(store, rid)
