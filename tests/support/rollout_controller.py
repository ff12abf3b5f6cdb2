"""What the rollout controller's unit tests share: a scripted analysis source, a fake
clock, a store with one endpoint, and the steps that start, tick and read a rollout
(tests/unit/test_rollout_controller.py, tests/unit/test_rollout_gates.py)."""

from __future__ import annotations

import time

from fleet.rollouts.analysis import Window
from fleet.rollouts.controller import Controller
from fleet.serving.routing import RoutingTable
from fleet.store import Store

GOOD = Window(requests=100, errors=0, p99_ms=20)
BAD = Window(requests=100, errors=30, p99_ms=20)


class Clock:
    def __init__(self) -> None:
        self.t = time.time() + 1

    def __call__(self) -> float:
        return self.t


class Scripted:
    """Analysis source: hands out the next window each check (GOOD when it runs out)."""

    def __init__(self, *windows: Window) -> None:
        self.windows = list(windows)

    def window(self, endpoint, version, *, since, start, now, shadow=False):
        return (self.windows.pop(0) if self.windows else GOOD), {}


def decide(store, aid, name, roles, *, approve):
    """Through the approval service, as an identity with `roles` (the policy lives there)."""
    from fleet.approvals import Approvals
    from fleet.config import Settings
    from fleet.identity import Identity, expand

    who = Identity(name, expand(["invoke"]), frozenset(roles))
    return Approvals(store, Settings(home="/nonexistent")).decide(who, aid, approve=approve)


def arm(v: int) -> dict:
    return {"model": "churn", "version": v, "app": f"churn-v{v}"}


def rollout_store(url: str) -> Store:
    """A store whose endpoint "web" serves churn v1 at 100%: where every rollout starts."""
    s = Store(url)
    s.endpoints.set_routing("web", {"versions": [{**arm(1), "weight": 100}]},
                            actor="ann", reason="first deploy")
    return s


def start(store, **spec) -> str:
    spec = {"steps": [5, 25, 100], "interval_s": 10, "hold_s": 30, "drain_s": 2, **spec}
    return store.rollouts.create(endpoint="web", strategy=spec.pop("strategy", "canary"),
                                 baseline=arm(1), candidate=arm(2), spec=spec, actor="ann").id


def make(store, clock, *windows, retired=None):
    return Controller(store, analysis={"router": Scripted(*windows)}, clock=clock,
                      retire=(retired.append if retired is not None else lambda app: None))


def run_until_final(store, ctl, clock, rid, limit=50):
    for _ in range(limit):
        ro = store.rollouts.get(rid)
        if not ro.active:
            return ro
        clock.t += 5
        ctl.tick()
    raise AssertionError("rollout did not finish")


def weights(store) -> dict[str, float]:
    table = RoutingTable.model_validate(store.endpoints.get("web").routing)
    return {a.key: a.weight for a in table.versions}
