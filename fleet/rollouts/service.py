"""Rollouts, as one service: every entry point reads them here (the gateway's /v1/rollouts,
`fleet rollouts|rollout`, the demo), and the `rollout` function starts and steers them
here, as an identity. What may start (no rollout active, a version other than the one
serving) and what a command may touch (its own endpoint's rollout) are decided here; the
steps and their transactions are the controller's (fleet.rollouts.controller)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet import messages, permissions
from fleet.config import Settings
from fleet.errors import Conflict, FieldProblem, InvalidInput, NotFound
from fleet.identity import Identity
from fleet.rollouts.spec import RolloutSpec
from fleet.serving.routing import primary_arm
from fleet.store import ModelVersion, Rollout, Store


class Rollouts:
    def __init__(self, store: Store, settings: Settings, controller=None) -> None:
        self.store = store
        self.settings = settings
        self._controller = controller

    @property
    def controller(self):
        """The installation's controller (fleet.rollouts.build_controller), built on use:
        reading rollouts needs no router."""
        if self._controller is None:
            from fleet.rollouts import build_controller

            self._controller = build_controller(self.settings, self.store)
        return self._controller

    # -- reads

    def list(self, who: Identity, *, endpoint: str | None = None,
             active: bool | None = None, limit: int = 50) -> list[Rollout]:
        who.require("read")
        return self.store.rollouts.list(endpoint=endpoint, active=active, limit=limit)

    def get(self, who: Identity, rid: str) -> Rollout:
        """A rollout by its id or a unique prefix of it."""
        who.require("read")
        return self.store.rollouts.get(rid)

    def events(self, who: Identity, rid: str) -> list[dict[str, Any]]:
        return self.store.rollouts.events(self.get(who, rid).id)

    def describe(self, who: Identity, rid: str) -> dict[str, Any]:
        """The rollout's public record with its events, oldest first."""
        ro = self.get(who, rid)
        return {**ro.public(), "events": self.store.rollouts.events(ro.id)}

    # -- changes (a role that grants `rollout` on the endpoint)

    def start(self, who: Identity, *, endpoint: str, candidate: ModelVersion,
              spec: RolloutSpec, deploy: Callable[[], str]) -> Rollout:
        """Deploy the candidate (`deploy()` returns its Serve app) and start moving traffic
        to it from the version the endpoint serves now."""
        who.require("invoke")
        permissions.require(self.settings, who, "rollout", f"endpoint:{endpoint}")
        ep = self.store.endpoints.get(endpoint)
        if ep.active_rollout:
            raise Conflict(messages.ROLLOUT_ACTIVE.format(endpoint=endpoint,
                                                          id=ep.active_rollout))
        top = primary_arm(endpoint, ep.routing)
        if (candidate.model, candidate.version) == (top.model, top.version):
            raise InvalidInput(messages.ROLLOUT_SAME_VERSION.format(
                version=f"{candidate.model}:{candidate.version}", endpoint=endpoint),
                [FieldProblem("model", "same as the serving version",
                              "Pass the new version to roll out.")])
        return self.controller.start(
            endpoint=endpoint, candidate=(candidate.model, candidate.version), spec=spec,
            baseline={"model": top.model, "version": top.version, "app": top.app},
            actor=who.name, deploy=deploy)

    def command(self, who: Identity, *, endpoint: str, action: str, rid: str | None
                ) -> Rollout:
        """pause, resume, promote or abort the endpoint's rollout `rid` (default: its latest);
        `status` only reads. A rollout id of another endpoint is refused: the role was
        checked for this endpoint."""
        who.require("read" if action == "status" else "invoke")
        if rid is None:
            found = self.store.rollouts.list(endpoint=endpoint, limit=1)
            if not found:
                raise NotFound(messages.ENDPOINT_HAS_NO_ROLLOUTS.format(endpoint=endpoint))
            ro = found[0]
        else:
            ro = self.store.rollouts.get(rid)
            if ro.endpoint != endpoint:
                raise InvalidInput(messages.ROLLOUT_OTHER_ENDPOINT.format(
                    id=rid, endpoint=endpoint), [FieldProblem(
                        "id", "another endpoint's", "Name the rollout's own endpoint.")])
        if action == "status":
            return ro
        permissions.require(self.settings, who, "rollout", f"endpoint:{endpoint}")
        return self.controller.command(ro, action, actor=who.name)


__all__ = ["Rollouts"]
