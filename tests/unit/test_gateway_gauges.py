"""The operational gauges the gateway exports from the store (what cluster/prometheus's
rules and cluster/grafana's dashboard read): routing weights per version, active rollouts
and their last change, outbox backlog and dead letters; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from types import SimpleNamespace

from prometheus_client.parser import text_string_to_metric_families

from fleet.gateway.metrics import GatewayMetrics
from fleet.store import Store, outbox
from fleet.telemetry import CACHE_S, StoreCollector
from tests.unit.test_rollout_controller import arm


def samples(store) -> dict[tuple, float]:
    text = GatewayMetrics(StoreCollector(store)).render().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, *sorted(s.labels.items()))] = s.value
    return out


def test_weights_rollouts_and_outbox_backlog_are_gauges(store_url):
    store = Store(store_url)
    try:
        store.endpoints.set_routing("web", {"versions": [{**arm(1), "weight": 80},
                                                         {**arm(2), "weight": 20}]},
                                    actor="ann", reason="canary")
        ro = store.rollouts.create(endpoint="web", strategy="canary", baseline=arm(1),
                                   candidate=arm(2), spec={"steps": [20, 100]}, actor="ann")
        with store.engines.write.begin() as conn:
            outbox.emit(conn, kind="rollout.started", subject="rollout:x", payload={})
            outbox.emit(conn, kind="rollout.step", subject="rollout:x", payload={})
        got = samples(store)
        v1, v2 = (f"{arm(n)['model']}:{n}" for n in (1, 2))
        assert got[("fleet_endpoint_version_weight", ("endpoint", "web"), ("role", "serving"),
                    ("version", v1))] == 80.0
        assert got[("fleet_endpoint_version_weight", ("endpoint", "web"), ("role", "serving"),
                    ("version", v2))] == 20.0
        key = ("fleet_rollout_active", ("endpoint", "web"), ("rollout", ro.id),
               ("status", ro.status), ("strategy", "canary"))
        assert got[key] == 1.0
        assert abs(got[("fleet_rollout_updated_timestamp_seconds", ("endpoint", "web"),
                        ("rollout", ro.id))] - time.time()) < 60
        waiting = len(store.outbox.deliveries(consumer="slack", state="pending"))
        assert waiting >= 2  # our two events, and whatever the rollout announced
        assert got[("fleet_outbox_deliveries", ("consumer", "slack"), ("state", "pending"))] \
            == waiting
        oldest = ("fleet_outbox_oldest_undelivered_timestamp_seconds", ("consumer", "slack"))
        assert abs(got[oldest] - time.time()) < 60
        claimed = store.outbox.claim("slack", "me", limit=1)
        once = SimpleNamespace(max_attempts=1, base_backoff_s=0.5, max_backoff_s=3.0)
        assert store.outbox.failed("slack", claimed[0]["id"], "me", error="boom",
                                   policy=once)["state"] == "dead"
        time.sleep(CACHE_S + 0.1)  # a fresh gateway would not cache; this one caches 2 s
        got = samples(store)
        assert got[("fleet_outbox_deliveries", ("consumer", "slack"), ("state", "dead"))] \
            == 1.0
        assert got[("fleet_outbox_deliveries", ("consumer", "slack"), ("state", "pending"))] \
            == waiting - 1
    finally:
        store.close()
