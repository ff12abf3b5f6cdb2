"""The rollout state machine on a real store (SQLite and PostgreSQL), without Ray: the
analysis source is a scripted window per check and time is a fake clock. Its gates and
approvals: tests/unit/test_rollout_gates.py."""

from __future__ import annotations

import threading

import pytest

from fleet.errors import Conflict
from fleet.rollouts.analysis import Window
from fleet.rollouts.controller import Controller
from tests.support.rollout_controller import (
    BAD,
    GOOD,
    Clock,
    arm,
    make,
    rollout_store,
    run_until_final,
    start,
    weights,
)


@pytest.fixture
def store(store_url):
    s = rollout_store(store_url)
    yield s
    s.close()


def test_a_good_canary_climbs_every_step_once_then_retires_the_old_version(store):
    clock, retired = Clock(), []
    rid = start(store)
    ctl = make(store, clock, retired=retired)
    ctl.tick()
    assert weights(store) == {"churn:2": 5, "churn:1": 95}
    ro = run_until_final(store, ctl, clock, rid)
    assert ro.status == "succeeded"
    steps = [e["weight"] for e in store.rollouts.events(rid) if e["kind"] in ("started", "step")]
    assert steps == [5, 25, 100]  # no step twice, none skipped
    assert weights(store) == {"churn:2": 100}
    assert retired == []  # not before the drain time
    clock.t += 3
    ctl.tick()
    assert retired == ["churn-v1"]
    assert store.endpoints.get("web").active_rollout is None
    kinds = [o["kind"] for o in store.outbox.pending()]
    assert "rollout.step" in kinds and "rollout.succeeded" in kinds


def test_the_old_version_stays_routable_at_zero_while_the_new_one_holds(store):
    clock = Clock()
    rid = start(store, steps=[100])
    ctl = make(store, clock)
    ctl.tick()
    clock.t += 11
    ctl.tick()
    assert store.rollouts.get(rid).status == "promoting"
    assert weights(store) == {"churn:2": 100, "churn:1": 0}  # instant rollback possible
    clock.t += 31
    ctl.tick()
    assert store.rollouts.get(rid).status == "succeeded"


def test_a_failing_check_rolls_back_at_once_and_restores_the_baseline(store):
    clock, retired = Clock(), []
    rid = start(store)
    ctl = make(store, clock, GOOD, BAD, retired=retired)
    ro = run_until_final(store, ctl, clock, rid)
    assert ro.status == "rolled_back"
    assert weights(store) == {"churn:1": 100}
    rolled = [e for e in store.rollouts.events(rid) if e["kind"] == "rolling_back"][0]
    assert "success rate 70.00% < 99.0%" in rolled["detail"]["reason"]
    assert rolled["step"] == 1  # it failed at 25%, the second step
    assert retired == ["churn-v2"]


def test_failed_checks_up_to_the_allowance_are_tolerated(store):
    clock = Clock()
    rid = start(store, max_failed_checks=1)
    ctl = make(store, clock, BAD, GOOD, GOOD, GOOD)
    assert run_until_final(store, ctl, clock, rid).status == "succeeded"
    rid2 = start(store, max_failed_checks=1)
    ctl2 = make(store, clock, BAD, BAD)
    assert run_until_final(store, ctl2, clock, rid2).status == "rolled_back"


def test_too_few_requests_waits_instead_of_judging(store):
    clock = Clock()
    rid = start(store)
    ctl = make(store, clock, Window(requests=3), GOOD)
    ctl.tick()
    clock.t += 11
    ctl.tick()
    ro = store.rollouts.get(rid)
    assert ro.status == "progressing" and ro.step == 0 and ro.failed_checks == 0
    clock.t += 11
    ctl.tick()
    assert store.rollouts.get(rid).step == 1


def test_a_restarted_controller_continues_at_the_same_step(store):
    clock = Clock()
    rid = start(store)
    make(store, clock).tick()
    clock.t += 11
    make(store, clock).tick()  # a new controller: nothing in memory survives
    assert store.rollouts.get(rid).step == 1
    ro = run_until_final(store, make(store, clock), clock, rid)
    steps = [e["step"] for e in store.rollouts.events(rid) if e["kind"] in ("started", "step")]
    assert ro.status == "succeeded" and steps == [0, 1, 2]


def test_two_controllers_on_the_same_tick_apply_one_step(store):
    clock = Clock()
    rid = start(store)
    make(store, clock).tick()
    clock.t += 11
    stale = store.rollouts.get(rid)
    barrier = threading.Barrier(4)
    results = []

    def racer():
        ctl = make(store, clock)
        barrier.wait()
        results.append(ctl.advance(stale))

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)) == ["None", "None", "None", "step"]
    assert [e["kind"] for e in store.rollouts.events(rid)].count("step") == 1


def test_one_active_rollout_per_endpoint(store):
    start(store)
    with pytest.raises(Conflict, match="already has an active rollout"):
        start(store)


def test_pause_resume_and_abort(store):
    clock = Clock()
    rid = start(store)
    ctl = make(store, clock)
    ctl.tick()
    ro = ctl.command(store.rollouts.get(rid), "pause", actor="ann")
    assert ro.status == "paused"
    clock.t += 100
    ctl.tick()
    assert store.rollouts.get(rid).step == 0  # paused: no analysis, no step
    resumed = ctl.command(store.rollouts.get(rid), "resume", actor="ann")
    assert resumed.status == "progressing"
    with pytest.raises(Conflict, match="only when it is paused"):
        ctl.command(resumed, "resume", actor="ann")
    ro = ctl.command(store.rollouts.get(rid), "abort", actor="ann")
    assert ro.status == "rolling_back" and weights(store) == {"churn:1": 100}
    assert run_until_final(store, ctl, clock, rid).status == "rolled_back"


def test_manual_promote_skips_the_remaining_steps(store):
    clock = Clock()
    rid = start(store)
    ctl = make(store, clock)
    ctl.tick()
    ro = ctl.command(store.rollouts.get(rid), "promote", actor="ann")
    assert ro.status == "promoting" and weights(store)["churn:2"] == 100


def test_versions_left_behind_by_old_rollouts_are_retired_whatever_their_age(store):
    clock, retired = Clock(), []
    ctl = make(store, clock, retired=retired)
    old = start(store, drain_s=1000, hold_s=0)
    ctl.tick()
    ctl.command(store.rollouts.get(old), "promote", actor="ann")
    clock.t += 1
    ctl.tick()
    assert store.rollouts.get(old).status == "succeeded"  # churn-v1 goes after 1000 s
    base = {"model": "b", "version": 1, "app": "b-v1"}
    store.endpoints.set_routing("other", {"versions": [{**base, "weight": 100}]},
                                actor="ann", reason="first deploy")
    for v in range(2, 24):  # 22 newer rollouts finish meanwhile
        rid = store.rollouts.create(
            endpoint="other", strategy="canary", baseline=base,
            candidate={"model": "b", "version": v, "app": f"b-v{v}"},
            spec={"steps": [5, 100], "interval_s": 10, "hold_s": 0, "drain_s": 0},
            actor="ann").id
        ctl.tick()
        ctl.command(store.rollouts.get(rid), "abort", actor="ann")
        for _ in range(2):
            clock.t += 1
            ctl.tick()
    assert sorted(retired) == sorted(f"b-v{v}" for v in range(2, 24))
    clock.t += 1000
    ctl.tick()
    assert "churn-v1" in retired  # before: only the 20 newest rollouts were looked at
    assert store.rollouts.unretired() == []


class Unreachable:
    def window(self, *a, **kw):
        raise ConnectionError("router /metrics refused the connection")


def test_an_unreachable_analysis_source_fails_a_check_after_n_in_a_row(store):
    clock = Clock()
    rid = start(store, max_inconclusive_checks=3)
    ctl = Controller(store, analysis={"router": Unreachable()}, retire=lambda app: None,
                     clock=clock)
    ctl.tick()
    for _ in range(2):
        clock.t += 11
        ctl.tick()
        assert store.rollouts.get(rid).status == "progressing"
    clock.t += 11
    ctl.tick()
    ro = store.rollouts.get(rid)
    assert ro.status == "rolling_back"  # max_failed_checks 0: the counted failure rolls back
    back = [e for e in store.rollouts.events(rid) if e["kind"] == "rolling_back"][0]
    assert "inconclusive 3 times in a row" in back["detail"]["reason"]
    assert "refused the connection" in back["detail"]["reason"]


def test_too_little_traffic_waits_and_does_not_count_as_unreachable(store):
    clock = Clock()
    rid = start(store, max_inconclusive_checks=2)
    idle = Window(requests=1, errors=0, p99_ms=5)
    ctl = make(store, clock, *([idle] * 6))
    ctl.tick()
    for _ in range(6):
        clock.t += 11
        ctl.tick()
    ro = store.rollouts.get(rid)
    assert ro.status == "progressing" and ro.step == 0


def test_a_start_that_loses_the_race_removes_the_app_it_deployed(store):
    from fleet.rollouts.spec import RolloutSpec

    clock, retired = Clock(), []
    ctl = make(store, clock, retired=retired)

    def deploy_while_someone_else_starts():
        start(store)  # another start records its rollout while ours deploys
        return "churn-v3"

    with pytest.raises(Conflict, match="already has an active rollout"):
        ctl.start(endpoint="web", baseline=arm(1), candidate=("churn", 3), spec=RolloutSpec(),
                  actor="bob", deploy=deploy_while_someone_else_starts)
    assert retired == ["churn-v3"]
    # the same race over the same candidate: the winner needs the app, so it stays
    with pytest.raises(Conflict):
        ctl.start(endpoint="web", baseline=arm(1), candidate=("churn", 2), spec=RolloutSpec(),
                  actor="bob", deploy=lambda: "churn-v2")
    assert retired == ["churn-v3"]
