"""The store's metrics as Prometheus families, as a service for the gateway's /metrics.

Invocation metrics are read from the store, not counted in memory: the store sees every
entry point (HTTP, CLI, jobs, schedules) and outlives any process, so any gateway
instance serves the same, correct numbers. Served versions, rollouts, the outbox and
drift are read the same way. A scrape reads the store at most every CACHE_S seconds."""

from __future__ import annotations

import threading
import time

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from fleet.store import DURATION_BUCKETS, Store

CACHE_S = 2.0


class StoreCollector:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: tuple[float, list] | None = None
        self._lock = threading.Lock()

    def _families(self) -> list:
        counts = self.store.invocations.counts()
        total = CounterMetricFamily("fleet_invocations", "Invocations by function, status and "
                                    "entry point.", labels=["function", "status", "via"])
        inflight = GaugeMetricFamily("fleet_invocations_in_flight", "Queued or running "
                                     "invocations.", labels=["function"])
        active: dict[str, int] = {}
        for function, status, via, n in counts:
            total.add_metric([function, status, via], n)
            if status in ("queued", "running"):
                active[function] = active.get(function, 0) + n
        for function, n in sorted(active.items()):
            inflight.add_metric([function], n)
        hist = HistogramMetricFamily("fleet_invocation_duration_seconds", "Duration of "
                                     "finished invocations.", labels=["function"])
        for function, cumulative, count, total_s in self.store.invocations.duration_histogram():
            buckets = [(str(b), c) for b, c in zip(DURATION_BUCKETS, cumulative, strict=True)]
            buckets.append(("+Inf", count))
            hist.add_metric([function], buckets, total_s)
        cpu = CounterMetricFamily("fleet_invocation_cpu_seconds", "CPU-seconds finished "
                                  "invocations held (declared CPUs times run time).",
                                  labels=["function"])
        gpu = CounterMetricFamily("fleet_invocation_gpu_seconds", "GPU-seconds finished "
                                  "invocations held (declared GPUs times run time).",
                                  labels=["function"])
        for row in self.store.invocations.usage(by="function"):
            cpu.add_metric([row["function"]], row["cpu_s"])
            gpu.add_metric([row["function"]], row["gpu_s"])
        return [total, inflight, hist, cpu, gpu, *self._serving(), *self._outbox(),
                *self._drift()]

    def _serving(self) -> list:
        """Routing weights per version (a canary's ladder over time) and active rollouts
        with their last change (a stuck one stops changing)."""
        weight = GaugeMetricFamily("fleet_endpoint_version_weight", "Traffic weight (percent) "
                                   "of a version in the endpoint's routing table; a shadow "
                                   "is 0.", labels=["endpoint", "version", "role"])
        for endpoint, (_gen, table) in sorted(self.store.endpoints.tables().items()):
            for arm in table.get("versions", []):
                weight.add_metric([endpoint, f"{arm['model']}:{arm['version']}", "serving"],
                                  float(arm.get("weight", 0)))
            if table.get("shadow"):
                sh = table["shadow"]
                weight.add_metric([endpoint, f"{sh['model']}:{sh['version']}", "shadow"], 0.0)
        active = GaugeMetricFamily("fleet_rollout_active", "1 per rollout not finished yet.",
                                   labels=["endpoint", "rollout", "strategy", "status"])
        changed = GaugeMetricFamily("fleet_rollout_updated_timestamp_seconds", "When an "
                                    "active rollout last changed (step, pause, check).",
                                    labels=["endpoint", "rollout"])
        for ro in self.store.rollouts.list(active=True, limit=1000):
            active.add_metric([ro.endpoint, ro.id, ro.strategy, ro.status], 1.0)
            changed.add_metric([ro.endpoint, ro.id], ro.updated_at)
        replica = CounterMetricFamily("fleet_replica_seconds", "Replica-seconds each served "
                                      "model version ran (sampled every sweep).",
                                      labels=["model", "version", "resource"])
        for row in self.store.replica_usage.usage():
            for resource, key in (("replica", "replica_s"), ("cpu", "cpu_s"), ("gpu", "gpu_s")):
                replica.add_metric([row["model"], str(row["version"]), resource], row[key])
        return [weight, active, changed, replica]

    def _outbox(self) -> list:
        """Notifications waiting, being delivered, delivered and dead, per consumer."""
        count = GaugeMetricFamily("fleet_outbox_deliveries", "Outbox deliveries per consumer "
                                  "and state (pending, claimed, delivered, dead).",
                                  labels=["consumer", "state"])
        oldest = GaugeMetricFamily("fleet_outbox_oldest_undelivered_timestamp_seconds",
                                   "When the oldest event not yet delivered to the consumer "
                                   "was written.", labels=["consumer"])
        waiting: dict[str, float] = {}
        for consumer, state, n, at in self.store.outbox.counts():
            count.add_metric([consumer, state], n)
            if state in ("pending", "claimed"):
                waiting[consumer] = min(at, waiting.get(consumer, at))
        for consumer, at in sorted(waiting.items()):
            oldest.add_metric([consumer], at)
        return [count, oldest]

    def _drift(self) -> list:
        """Each endpoint's newest drift report, for dashboards and alert rules."""
        score = GaugeMetricFamily("fleet_drift_score", "Drift score of a column in the "
                                  "endpoint's latest report (p-value for ks, chisquare and z; "
                                  "distance for wasserstein and jensenshannon).",
                                  labels=["endpoint", "column", "method"])
        drifted = GaugeMetricFamily("fleet_drift_detected", "1 if the column drifted in the "
                                    "endpoint's latest report.", labels=["endpoint", "column"])
        share = GaugeMetricFamily("fleet_drift_share", "Share of drifted columns in the "
                                  "endpoint's latest report.", labels=["endpoint"])
        dataset = GaugeMetricFamily("fleet_drift_dataset", "1 if the endpoint's latest "
                                    "report found dataset drift (its drift_share reached).",
                                    labels=["endpoint"])
        shares: dict[str, tuple[float, bool]] = {}
        for r in self.store.drift.latest_scores():
            score.add_metric([r["endpoint"], r["column"], r["method"]], r["score"])
            drifted.add_metric([r["endpoint"], r["column"]], 1.0 if r["drifted"] else 0.0)
            shares[r["endpoint"]] = (r["drifted_share"], bool(r["dataset_drift"]))
        for endpoint, (value, whole) in sorted(shares.items()):
            share.add_metric([endpoint], value)
            dataset.add_metric([endpoint], 1.0 if whole else 0.0)
        perf = GaugeMetricFamily("fleet_model_performance", "A version's accuracy or RMSE "
                                 "in the endpoint's latest report: realised from labels, "
                                 "estimated from confidence (CBPE), or at registration.",
                                 labels=["endpoint", "version", "metric", "source"])
        for endpoint, p in sorted(self.store.drift.latest_performance().items()):
            for source in ("realised", "estimated", "registered"):
                if p.get(source) is not None:
                    perf.add_metric([endpoint, p["version"], p["metric"], source], p[source])
        return [score, drifted, share, dataset, perf]

    def collect(self):
        with self._lock:
            now = time.monotonic()
            if self._cache is None or now - self._cache[0] > CACHE_S:
                self._cache = (now, self._families())
            return list(self._cache[1])


__all__ = ["CACHE_S", "StoreCollector"]
