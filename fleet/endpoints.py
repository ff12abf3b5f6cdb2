"""Endpoints and their rollouts, as a read service: what serves each endpoint (its routing
table, bandit arms) and the rollouts that moved it. Rollouts change through their
controller (fleet.rollouts), started by the rollout functions; this is where every entry
point reads them, as an identity."""

from __future__ import annotations

from typing import Any

from fleet.identity import Identity
from fleet.store import Endpoint, Rollout, Store


class Endpoints:
    def __init__(self, store: Store) -> None:
        self.store = store

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

    def describe(self, who: Identity, name: str) -> dict[str, Any]:
        """The endpoint's public record with its bandit arms."""
        ep = self.get(who, name)
        return {**ep.public(), "arms": self.store.endpoints.arms(ep.name).get(ep.name, {})}

    def rollouts(self, who: Identity, *, endpoint: str | None = None,
                 active: bool | None = None, limit: int = 50) -> list[Rollout]:
        who.require("read")
        return self.store.rollouts.list(endpoint=endpoint, active=active, limit=limit)

    def rollout(self, who: Identity, rid: str) -> Rollout:
        """A rollout by its id or a unique prefix of it."""
        who.require("read")
        return self.store.rollouts.get(rid)

    def rollout_events(self, who: Identity, rid: str) -> list[dict[str, Any]]:
        who.require("read")
        return self.store.rollouts.events(self.store.rollouts.get(rid).id)

    def describe_rollout(self, who: Identity, rid: str) -> dict[str, Any]:
        ro = self.rollout(who, rid)
        return {**ro.public(), "events": self.store.rollouts.events(ro.id)}


__all__ = ["Endpoints"]
