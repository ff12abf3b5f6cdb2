"""Choosing a version per request, and reading health from router counters."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from pydantic import ValidationError

from fleet.rollouts.analysis import Window, delta, judge, quantile, window_from_counters
from fleet.rollouts.spec import RolloutSpec, Thresholds
from fleet.serving import routing
from fleet.serving.routing import Arm, ArmStats, RoutingTable, choose

V1 = Arm(model="churn", version=1, app="churn-v1")
V2 = Arm(model="churn", version=2, app="churn-v2")


def test_weights_split_traffic_in_proportion():
    table = routing.canary(V1, V2, 10)
    rng = random.Random(7)
    hits = Counter(choose(table, rng=rng).key for _ in range(20_000))
    assert 0.085 < hits["churn:2"] / 20_000 < 0.115


def test_a_sticky_key_keeps_its_version_and_stays_on_the_canary_as_it_grows():
    keys = [f"user-{i}" for i in range(2_000)]
    at5 = {k for k in keys if choose(routing.canary(V1, V2, 5), sticky_key=k).version == 2}
    at25 = {k for k in keys if choose(routing.canary(V1, V2, 25), sticky_key=k).version == 2}
    assert at5 and at5 <= at25  # nobody flips back to the baseline as the weight grows
    assert all(choose(routing.canary(V1, V2, 25), sticky_key=k).version == 2 for k in at25)
    assert 0.2 < len(at25) / len(keys) < 0.3


def test_weight_zero_versions_get_no_traffic_but_can_be_found_by_header():
    table = routing.promoted(V1, V2)
    assert {choose(table).version for _ in range(500)} == {2}
    assert table.find("1") == V1.with_weight(0) and table.find("churn:1").version == 1
    assert table.find("7") is None


def test_an_empty_table_routes_nowhere_and_duplicates_are_refused():
    assert choose(RoutingTable()) is None
    with pytest.raises(ValidationError, match="twice"):
        RoutingTable(versions=[V1, V1])


def test_thompson_sampling_sends_most_traffic_to_the_better_arm():
    table = routing.bandit(V1, V2)
    rng, stats = random.Random(3), {"churn:1": ArmStats(), "churn:2": ArmStats()}
    rates = {"churn:1": 0.3, "churn:2": 0.8}
    picks = []
    for _ in range(600):
        a = choose(table, stats=stats, rng=rng)
        reward = 1.0 if rng.random() < rates[a.key] else 0.0
        st = stats[a.key]
        stats[a.key] = ArmStats(pulls=st.pulls + 1, successes=st.successes + reward,
                                failures=st.failures + 1 - reward)
        picks.append(a.key)
    assert Counter(picks[-300:])["churn:2"] / 300 >= 0.8


def test_histogram_quantile_interpolates_within_a_bucket():
    buckets = [(0.01, 50.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert quantile(0.5, buckets) == pytest.approx(0.01)
    assert quantile(0.99, buckets) == pytest.approx(0.01 + 0.09 * 49 / 50)
    assert quantile(0.99, []) is None


def test_counter_deltas_survive_a_router_restart():
    assert delta({"req:success": 5}, {"req:success": 100}) == {"req:success": 5}
    w = window_from_counters({"req:success": 90, "req:error": 10, "le:0.05": 100,
                              "le:+Inf": 100, "agree:true": 3, "agree:false": 1})
    assert w.requests == 100 and w.success_rate == 90 and w.agreement == 75
    assert w.p99_ms == pytest.approx(49.5)


def test_judge_names_each_threshold_that_failed():
    th = Thresholds(success_rate_min=99, p99_ms_max=100, min_requests=10)
    v = judge(Window(requests=100, errors=5, p99_ms=250), th)
    assert v.result == "fail"
    assert v.reasons == ["success rate 95.00% < 99.0%", "p99 250.0 ms > 100.0 ms"]
    assert judge(Window(requests=100, errors=0, p99_ms=50), th).result == "pass"
    assert judge(Window(requests=3), th).result == "inconclusive"


def test_a_rollout_spec_explains_bad_steps():
    with pytest.raises(ValidationError, match="steps must increase"):
        RolloutSpec(steps=[10, 5])
    with pytest.raises(ValidationError, match=r"percent in \(0, 100\]"):
        RolloutSpec(steps=[0, 50])
    assert RolloutSpec(steps=[10, 50]).steps == [10, 50, 100]  # a canary ends at 100
