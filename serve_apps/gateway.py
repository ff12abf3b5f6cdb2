"""The Fleet gateway as a Ray Serve application (`serve run serve_apps.gateway:app`).

`fleet up` serves the same FastAPI app from a plain process instead, which bench/gateway
measured faster on small machines (one proxy hop less); this app is for clusters that want
Serve's replicas and autoscaling in front of the gateway. See docs/architecture.md.
"""

from __future__ import annotations

from ray import serve


def _build_app():
    """Built on each replica (the app holds database pools that must not be pickled)."""
    from fleet.cluster import connect
    from fleet.config import load_settings
    from fleet.gateway import create_app

    settings = load_settings()
    connect(settings)
    return create_app(settings)


@serve.deployment(name="fleet-gateway", max_ongoing_requests=100,
                  ray_actor_options={"num_cpus": 0.1})
@serve.ingress(_build_app)
class Gateway:
    pass


app = Gateway.bind()
