"""Router instances share a port, so each /metrics answer sums every instance's counters:
what the rollout analysis and Prometheus read must not depend on which one answered."""

from fleet.rollouts.analysis import scrape
from fleet.serving.metrics import RouterMetrics, merge


def test_merged_counters_and_histograms_are_the_sum_of_the_instances():
    a, b = RouterMetrics(), RouterMetrics()
    a.observe("churn", "m:1", True, 0.004)
    a.observe("churn", "m:1", False, 0.3)
    b.observe("churn", "m:1", True, 0.02)
    b.observe("churn", "m:2", True, 0.02)
    b.unrouted.labels("churn", "unknown version").inc()
    merged = merge([a.render(), b.render()]).decode()

    one = scrape(merged, "churn", "m:1", False)
    assert one["req:success"] == 2 and one["req:error"] == 1
    assert one["le:0.005"] == 1 and one["le:0.025"] == 2 and one["le:+Inf"] == 3
    assert scrape(merged, "churn", "m:2", False)["req:success"] == 1
    assert 'fleet_router_unrouted_total{endpoint="churn",reason="unknown version"} 1.0' \
        in merged
    assert "fleet_router_instances 2.0" in merged
    assert "_created" not in merged  # creation times mean nothing summed


def test_one_instance_alone_reads_as_itself():
    a = RouterMetrics()
    a.observe("churn", "m:1", True, 0.004)
    assert scrape(merge([a.render()]).decode(), "churn", "m:1", False) == \
        scrape(a.render().decode(), "churn", "m:1", False)
