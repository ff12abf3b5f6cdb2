"""Progressive rollouts: the spec, the analysis providers and the controller.

`build_controller(settings)` wires the controller to this installation: analysis from the
router's /metrics (default) or from Prometheus (`serving.prometheus_url`), and retirement of
drained versions through Serve. The scheduler ticks it; the rollout function sends it
commands.
"""

from __future__ import annotations

from fleet.rollouts.analysis import PrometheusQueries, RouterCounters, Verdict, Window, judge
from fleet.rollouts.controller import ACTIONS, CONTROLLER, Controller
from fleet.rollouts.spec import RolloutSpec, Thresholds
from fleet.store.rollouts import ACTIVE_STATUSES, FINAL_STATUSES

__all__ = ["ACTIONS", "ACTIVE_STATUSES", "CONTROLLER", "FINAL_STATUSES", "Controller",
           "PrometheusQueries", "RolloutSpec", "RouterCounters", "Thresholds", "Verdict",
           "Window", "build_controller", "judge"]


def _retire(app: str) -> None:
    from ray import serve

    serve.delete(app, _blocking=False)


def build_controller(settings, store=None) -> Controller:
    from fleet.serving import router_url
    from fleet.store import open_store

    store = store or open_store(settings.resolved_store_url)
    counters = RouterCounters(f"{router_url(settings)}/metrics")
    analysis: dict = {"router": counters}
    if settings.serving.prometheus_url:
        analysis["prometheus"] = PrometheusQueries(settings.serving.prometheus_url)

    def snapshot(ro) -> dict:
        try:
            return counters.snapshot(ro.endpoint,
                                     f"{ro.candidate['model']}:{ro.candidate['version']}",
                                     shadow=ro.strategy == "shadow")
        except Exception:
            return {}  # the router is unreachable: the window then counts from zero

    return Controller(store, analysis=analysis, retire=_retire, snapshot=snapshot)
