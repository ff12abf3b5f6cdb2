"""The router's Prometheus metrics: per endpoint and version, for primaries and shadows.

These are what the rollout analysis reads, either straight from the router's /metrics
(the default provider) or through a Prometheus server that scrapes it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

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
