"""Analysis providers: how healthy was a version over the last interval?

Two sources, the same answer shape:
- `RouterCounters` (default) reads the router's own Prometheus exposition and subtracts
  the counters stored at the start of the window (a reset, e.g. a restarted router, counts
  from zero, the way Prometheus' increase() does);
- `PrometheusQueries` asks a real Prometheus server through PromQL over its HTTP API, the
  way Flagger does, over the same window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "fleet_router_requests"
DURATION = "fleet_router_request_duration_seconds"
SHADOW_REQUESTS = "fleet_router_shadow_requests"
SHADOW_DURATION = "fleet_router_shadow_duration_seconds"
AGREEMENT = "fleet_router_shadow_agreement"


@dataclass
class Window:
    requests: float = 0.0
    errors: float = 0.0
    p99_ms: float | None = None
    agreement: float | None = None  # percent, shadow only

    @property
    def success_rate(self) -> float | None:
        return None if self.requests <= 0 else 100.0 * (1 - self.errors / self.requests)

    def as_dict(self) -> dict:
        return {"requests": self.requests, "errors": self.errors,
                "success_rate": self.success_rate, "p99_ms": self.p99_ms,
                "agreement": self.agreement}


@dataclass
class Verdict:
    result: str  # pass, fail, inconclusive
    reasons: list[str] = field(default_factory=list)
    window: Window = field(default_factory=Window)
    unreachable: bool = False  # inconclusive because the source could not be asked

    def as_dict(self) -> dict:
        return {"result": self.result, "reasons": self.reasons, **self.window.as_dict()}


def judge(w: Window, thresholds) -> Verdict:
    """Compare one window with the thresholds; say which failed and by how much."""
    if w.requests < thresholds.min_requests:
        return Verdict("inconclusive", [f"{w.requests:g} requests < min_requests "
                                        f"{thresholds.min_requests}"], w)
    reasons = []
    if w.success_rate is not None and w.success_rate < thresholds.success_rate_min:
        reasons.append(f"success rate {w.success_rate:.2f}% < {thresholds.success_rate_min}%")
    if thresholds.p99_ms_max is not None and w.p99_ms is not None \
            and w.p99_ms > thresholds.p99_ms_max:
        reasons.append(f"p99 {w.p99_ms:.1f} ms > {thresholds.p99_ms_max} ms")
    if thresholds.agreement_min is not None and w.agreement is not None \
            and w.agreement < thresholds.agreement_min:
        reasons.append(f"agreement {w.agreement:.1f}% < {thresholds.agreement_min}%")
    return Verdict("fail" if reasons else "pass", reasons, w)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """histogram_quantile over cumulative (upper bound, count) pairs, linear in a bucket."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            span = count - prev_count
            frac = 0.0 if span <= 0 else (rank - prev_count) / span
            return prev_bound + (bound - prev_bound) * frac
        prev_bound, prev_count = bound, count
    return prev_bound


# -- the router's own counters ------------------------------------------------------------

def scrape(text: str, endpoint: str, version: str, shadow: bool = False) -> dict[str, float]:
    """The cumulative series for one (endpoint, version) as a flat {key: value} dict."""
    req, dur = (SHADOW_REQUESTS, SHADOW_DURATION) if shadow else (REQUESTS, DURATION)
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            lb = s.labels
            if lb.get("endpoint") != endpoint or lb.get("version") != version:
                continue
            if s.name == f"{req}_total":
                out[f"req:{lb.get('outcome')}"] = out.get(f"req:{lb.get('outcome')}", 0) + s.value
            elif s.name == f"{dur}_bucket":
                out[f"le:{lb['le']}"] = s.value
            elif shadow and s.name == f"{AGREEMENT}_total":
                out[f"agree:{lb.get('agree')}"] = s.value
    return out


def delta(now: dict[str, float], then: dict[str, float]) -> dict[str, float]:
    """now - then per series; a series that went down was reset, so it counts from zero."""
    out = {}
    for k, v in now.items():
        before = then.get(k, 0.0)
        out[k] = v - before if v >= before else v
    return out


def window_from_counters(d: dict[str, float]) -> Window:
    ok, err = d.get("req:success", 0.0), d.get("req:error", 0.0)
    buckets = [(float(k[3:]), v) for k, v in d.items() if k.startswith("le:")]
    p99 = quantile(0.99, buckets)
    agree, disagree = d.get("agree:true", 0.0), d.get("agree:false", 0.0)
    return Window(requests=ok + err, errors=err,
                  p99_ms=None if p99 is None else p99 * 1000,
                  agreement=100 * agree / (agree + disagree) if agree + disagree else None)


class RouterCounters:
    def __init__(self, metrics_url: str) -> None:
        self.url = metrics_url

    def snapshot(self, endpoint: str, version: str, shadow: bool = False) -> dict[str, float]:
        r = httpx.get(self.url, timeout=10)
        r.raise_for_status()
        return scrape(r.text, endpoint, version, shadow)

    def window(self, endpoint: str, version: str, *, since: dict[str, float], start: float,
               now: float, shadow: bool = False) -> tuple[Window, dict[str, float]]:
        current = self.snapshot(endpoint, version, shadow)
        return window_from_counters(delta(current, since)), current


# -- a real Prometheus, through PromQL ----------------------------------------------------

class PrometheusQueries:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _scalar(self, promql: str) -> float | None:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        r.raise_for_status()
        result = r.json()["data"]["result"]
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) else value

    def window(self, endpoint: str, version: str, *, since: dict[str, float], start: float,
               now: float, shadow: bool = False) -> tuple[Window, dict[str, float]]:
        req, dur = (SHADOW_REQUESTS, SHADOW_DURATION) if shadow else (REQUESTS, DURATION)
        rng = f"{max(1, int(math.ceil(now - start)))}s"
        sel = f'endpoint="{endpoint}",version="{version}"'
        total = self._scalar(f"sum(increase({req}_total{{{sel}}}[{rng}]))") or 0.0
        errors = self._scalar(
            f'sum(increase({req}_total{{{sel},outcome="error"}}[{rng}]))') or 0.0
        p99 = self._scalar(f"histogram_quantile(0.99, sum by (le) "
                           f"(increase({dur}_bucket{{{sel}}}[{rng}])))")
        agreement = None
        if shadow:
            agree = self._scalar(
                f'sum(increase({AGREEMENT}_total{{{sel},agree="true"}}[{rng}]))') or 0.0
            every = self._scalar(f"sum(increase({AGREEMENT}_total{{{sel}}}[{rng}]))") or 0.0
            agreement = 100 * agree / every if every else None
        return Window(requests=total, errors=errors,
                      p99_ms=None if p99 is None else p99 * 1000, agreement=agreement), {}
