"""Routing tables and the choice of a version for one request.

Pure code, no Ray: the router (fleet.serving.router) calls `choose` per request, the
rollout controller builds tables with the helpers below, and the unit tests exercise both
without a cluster.

A table lists versions with weights in percent. Weight 0 keeps a version deployed and
reachable by the override header, but sends it no traffic: that is how the previous version
stays ready for an instant rollback. Table order matters for sticky keys: the candidate
comes first, so a key that landed on the candidate at 5% stays there at 10%, 25%, ...
"""

from __future__ import annotations

import hashlib
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleet import messages
from fleet.errors import Conflict


class Arm(BaseModel):
    """One deployed model version: its Serve application and its share of traffic."""

    model_config = ConfigDict(frozen=True)
    model: str
    version: int
    app: str
    weight: float = Field(default=0.0, ge=0, le=100)

    @property
    def key(self) -> str:
        return f"{self.model}:{self.version}"

    def with_weight(self, weight: float) -> Arm:
        return self.model_copy(update={"weight": float(weight)})


class RoutingTable(BaseModel):
    model_config = ConfigDict(frozen=True)
    strategy: Literal["weighted", "bandit"] = "weighted"
    versions: list[Arm] = Field(default_factory=list)
    shadow: Arm | None = None

    @model_validator(mode="after")
    def _unique(self) -> RoutingTable:
        keys = [a.key for a in self.versions]
        if len(keys) != len(set(keys)):
            raise ValueError("a version appears twice in the routing table")
        return self

    @property
    def live(self) -> list[Arm]:
        if self.strategy == "bandit":
            return list(self.versions)
        return [a for a in self.versions if a.weight > 0]

    @property
    def primary(self) -> Arm | None:
        """The live arm taking most of the traffic (None when nothing is live)."""
        live = self.live
        return max(live, key=lambda a: a.weight) if live else None

    def find(self, ref: str) -> Arm | None:
        """A version by 'model:version' or by version number alone."""
        for a in [*self.versions, *([self.shadow] if self.shadow else [])]:
            if ref == a.key or ref == str(a.version):
                return a
        return None

    @property
    def apps(self) -> set[str]:
        return {a.app for a in self.versions} | ({self.shadow.app} if self.shadow else set())

    def dump(self) -> dict:
        return self.model_dump(mode="json")


class ArmStats(BaseModel):
    pulls: int = 0
    successes: float = 0.0
    failures: float = 0.0


def primary_arm(endpoint: str, routing: dict) -> Arm:
    """The version taking most of `endpoint`'s traffic, from its stored routing table;
    Conflict when it routes nowhere (nothing deployed yet)."""
    top = RoutingTable.model_validate(routing).primary
    if top is None:
        raise Conflict(messages.ENDPOINT_ROUTES_NOWHERE.format(endpoint=endpoint))
    return top


def sticky_point(key: str) -> float:
    """A stable point in [0, 1) for a sticky key (the same on every router)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def choose(table: RoutingTable, *, sticky_key: str | None = None,
           stats: dict[str, ArmStats] | None = None,
           rng: random.Random | None = None) -> Arm | None:
    """The version for one request, or None if the table routes nowhere."""
    rng = rng or random
    live = table.live
    if not live:
        return None
    if table.strategy == "bandit":
        return thompson(live, stats or {}, rng)
    total = sum(a.weight for a in live)
    point = (sticky_point(sticky_key) if sticky_key else rng.random()) * total
    for arm in live:
        point -= arm.weight
        if point < 0:
            return arm
    return live[-1]


def thompson(arms: list[Arm], stats: dict[str, ArmStats], rng) -> Arm:
    """Thompson sampling: draw each arm's success rate from Beta(1 + s, 1 + f), take the
    best draw. Arms without feedback draw from Beta(1, 1), so each is explored."""
    best, best_draw = arms[0], -1.0
    for arm in arms:
        st = stats.get(arm.key) or ArmStats()
        draw = rng.betavariate(1.0 + st.successes, 1.0 + st.failures)
        if draw > best_draw:
            best, best_draw = arm, draw
    return best


# -- tables the controller and deploy build --------------------------------------------------

def single(arm: Arm) -> RoutingTable:
    return RoutingTable(versions=[arm.with_weight(100)])


def canary(baseline: Arm, candidate: Arm, weight: float) -> RoutingTable:
    return RoutingTable(versions=[candidate.with_weight(weight),
                                  baseline.with_weight(100 - weight)])


def shadowed(baseline: Arm, candidate: Arm) -> RoutingTable:
    return RoutingTable(versions=[baseline.with_weight(100)], shadow=candidate.with_weight(0))


def bandit(baseline: Arm, candidate: Arm) -> RoutingTable:
    return RoutingTable(strategy="bandit", versions=[candidate.with_weight(50),
                                                     baseline.with_weight(50)])


def promoted(baseline: Arm | None, candidate: Arm) -> RoutingTable:
    """Candidate takes everything; the baseline stays routable (weight 0) for rollback."""
    versions = [candidate.with_weight(100)]
    if baseline is not None:
        versions.append(baseline.with_weight(0))
    return RoutingTable(versions=versions)
