"""Endpoints, as one service: what serves each endpoint (its routing table, bandit arms,
the version answering most of its traffic), which version apps were deployed and how, and
the first version an endpoint routes to (`deploy`). Rollouts, which move an endpoint's
traffic afterwards, are fleet.rollouts.service.Rollouts'."""

from __future__ import annotations

from typing import Any

from fleet import messages, permissions
from fleet.config import Settings
from fleet.errors import Conflict, FieldProblem, InvalidInput
from fleet.identity import Identity
from fleet.names import ENDPOINT_RE
from fleet.serving import routing
from fleet.serving.routing import Arm, RoutingTable, primary_arm
from fleet.store import Endpoint, ModelVersion, Store


def check_endpoint_name(name: str) -> None:
    """The endpoint-name rule (fleet.names.ENDPOINT_NAME), with the fix in the message."""
    if not ENDPOINT_RE.match(name or ""):
        raise InvalidInput(messages.BAD_ENDPOINT_NAME.format(name=name), [FieldProblem(
            "endpoint", "invalid name",
            "Use lower-case letters, digits and '-', starting with a letter (max 63).")])


class Endpoints:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def list(self, who: Identity, *, limit: int | None = None) -> list[Endpoint]:
        who.require("read")
        return self.store.endpoints.list(limit=limit)

    def get(self, who: Identity, name: str) -> Endpoint:
        """The endpoint (a clear NotFound naming the known ones when it is not)."""
        who.require("read")
        return self.store.endpoints.get(name)

    def find(self, who: Identity, name: str) -> Endpoint | None:
        who.require("read")
        return self.store.endpoints.find(name)

    def serving_version(self, who: Identity, name: str) -> ModelVersion:
        """The version that answers most of the endpoint's traffic (its primary arm)."""
        top = primary_arm(name, self.get(who, name).routing)
        return self.store.models.get(top.model, top.version)

    def route_first(self, who: Identity, name: str, arm: Arm) -> tuple[bool, float, int | None]:
        """A deployed version's place on the endpoint: the whole of its traffic when the
        endpoint routes nowhere yet (created then), else where it already is, or staged
        (reachable with the version header) for a rollout to move traffic to it.
        Returns (routed, weight, the new routing generation when it changed). A role
        that grants `deploy` on the endpoint."""
        check_endpoint_name(name)
        who.require("invoke")
        permissions.require(self.settings, who, "deploy", f"endpoint:{name}")
        found = self.store.endpoints.find(name)
        table = RoutingTable.model_validate(found.routing) if found else RoutingTable()
        present = table.find(arm.key)
        if table.live or present is not None:
            return present is not None, present.weight if present else 0.0, None
        generation = self.store.endpoints.set_routing(
            name, routing.single(arm).dump(), actor=who.name, reason=f"deploy {arm.key}",
            expected_generation=found.generation if found else 0)
        if generation is None:  # another deploy or rollout changed it meanwhile
            raise Conflict(messages.ENDPOINT_CHANGED.format(endpoint=name))
        return True, 100.0, generation

    # -- the version apps deployed (what a restarted cluster must bring back)

    def record_deployment(self, who: Identity, *, app: str, model: str, version: int,
                          options: dict) -> None:
        """A version's Serve app runs with these options: recorded and audited."""
        who.require("invoke")
        self.store.endpoints.record_deployment(app=app, model=model, version=version,
                                               options=options, actor=who.name)

    def missing_deployments(self, who: Identity, running: set[str]) -> list[dict]:
        """The deployments (as recorded) of every app a routing table or an active rollout
        needs that is not `running`, by app name."""
        who.require("read")
        records = self.store.endpoints.deployments()
        return [records[app] for app in sorted(self.store.endpoints.apps_in_use() - running)
                if app in records]

    def describe(self, who: Identity, name: str) -> dict[str, Any]:
        """The endpoint's public record with its bandit arms."""
        ep = self.get(who, name)
        return {**ep.public(), "arms": self.store.endpoints.arms(ep.name).get(ep.name, {})}


__all__ = ["Endpoints"]
