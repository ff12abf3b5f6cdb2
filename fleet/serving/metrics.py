"""The router's Prometheus metrics: per endpoint and version, for primaries and shadows.

These are what the rollout analysis reads, either straight from the router's /metrics
(the default provider) or through a Prometheus server that scrapes it.

Several router instances share one port, and a scrape reaches whichever the kernel picks,
so each instance answers /metrics with every live instance's counters summed (`merge`):
the numbers do not jump between scrapes. An instance that died takes its counts with it,
which Prometheus reads as a counter reset, as for any restarted target.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RouterMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["endpoint", "version"]
        self.requests = Counter("fleet_router_requests", "Requests routed to a version.",
                                [*labels, "outcome"], registry=self.registry)
        self.duration = Histogram("fleet_router_request_duration_seconds",
                                  "Time to the version's answer, as the caller saw it.",
                                  labels, buckets=LATENCY_BUCKETS, registry=self.registry)
        self.shadow_requests = Counter("fleet_router_shadow_requests",
                                       "Mirrored requests to a shadow version.",
                                       [*labels, "outcome"], registry=self.registry)
        self.shadow_duration = Histogram("fleet_router_shadow_duration_seconds",
                                         "Shadow version latency (never seen by callers).",
                                         labels, buckets=LATENCY_BUCKETS,
                                         registry=self.registry)
        self.agreement = Counter("fleet_router_shadow_agreement",
                                 "Shadow answers that agreed with the primary's.",
                                 [*labels, "agree"], registry=self.registry)
        self.feedback = Counter("fleet_router_feedback", "Rewards reported per version.",
                                labels, registry=self.registry)
        self.labels = Counter("fleet_router_labels", "Labelled instances reported per "
                              "version (ground truth for drift checks).", labels,
                              registry=self.registry)
        self.unrouted = Counter("fleet_router_unrouted",
                                "Requests refused before reaching a version.",
                                ["endpoint", "reason"], registry=self.registry)

    def observe(self, endpoint: str, version: str, ok: bool, seconds: float,
                shadow: bool = False) -> None:
        counter, hist = ((self.shadow_requests, self.shadow_duration) if shadow
                         else (self.requests, self.duration))
        counter.labels(endpoint, version, "success" if ok else "error").inc()
        hist.labels(endpoint, version).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Families:
    """What generate_latest needs: something with collect()."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


ROUTER_INSTANCES = ("fleet_router_instances", "Router instances whose counters this answer "
                    "sums.")


def merge(expositions: list[bytes], instances: tuple[str, str] = ROUTER_INSTANCES) -> bytes:
    """Several instances' /metrics as one (routers, or gateways' request counters): each
    sample summed over the instances by name and labels, plus the gauge `instances` (name,
    help): how many answered. (`_created` timestamps mean nothing summed, so they are left
    out.)"""
    families: dict[str, Metric] = {}
    sums: dict[str, dict[tuple, float]] = {}
    for text in expositions:
        for fam in text_string_to_metric_families(text.decode()):
            if fam.name.endswith("_created"):
                continue
            if fam.name not in families:
                families[fam.name] = Metric(fam.name, fam.documentation, fam.type)
                sums[fam.name] = {}
            acc = sums[fam.name]
            for sample in fam.samples:
                if sample.name.endswith("_created"):
                    continue  # (a histogram's own _created, in its family)
                key = (sample.name, tuple(sample.labels.items()))
                acc[key] = acc.get(key, 0.0) + sample.value
    for name, family in families.items():
        for (sample, labels), value in sums[name].items():
            family.add_sample(sample, dict(labels), value)
    answered = Metric(instances[0], instances[1], "gauge")
    answered.add_sample(instances[0], {}, float(len(expositions)))
    return generate_latest(_Families([*families.values(), answered]))
