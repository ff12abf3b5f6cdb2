"""`deploy`: put a registered model version behind an endpoint.

The version becomes its own Serve application (its own replicas, batching and autoscaling).
An endpoint that routes nowhere yet gives it 100% of traffic; otherwise the version is staged
(deployed, reachable with the version header) for a rollout to shift traffic to it.
"""

from __future__ import annotations

import time

import httpx
from pydantic import BaseModel, Field

from fleet import function, messages
from fleet.config import load_settings
from fleet.endpoints import check_endpoint_name
from fleet.errors import Unavailable
from fleet.services import in_invocation
from fleet.serving import router_url, version_url
from fleet.serving.routing import Arm
from serve_apps.model import ServingOptions, deploy_version


class DeployRequest(BaseModel):
    model: str = Field(description="name:version, name@alias or name (latest).")
    endpoint: str = Field(description="Endpoint name: lower-case letters, digits, '-'.")
    serving: ServingOptions = Field(default_factory=ServingOptions)


class DeployResult(BaseModel):
    endpoint: str
    model: str
    version: int
    app: str
    routed: bool
    weight: float
    url: str
    version_url: str


def _wait_until_routed(settings, endpoint: str, generation: int, timeout_s: float = 60) -> None:
    """Return once the router serves the new table, so a caller's next request is routed."""
    url = f"{router_url(settings)}/endpoints/{endpoint}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200 and r.json()["generation"] >= generation:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise Unavailable(messages.ROUTER_MISSED_TABLE.format(url=url, endpoint=endpoint,
                                                          timeout=timeout_s))


@function(cpus=0.1, timeout_s=900, retries=0,
          requires=lambda req: ("deploy", f"endpoint:{req.endpoint}"))
def deploy(req: DeployRequest) -> DeployResult:
    """Deploy a model version to an endpoint (the first version takes all traffic)."""
    check_endpoint_name(req.endpoint)
    settings = load_settings()
    svc, who = in_invocation(settings)
    version = svc.models.version(who, req.model)
    app = deploy_version(settings, version.model, version.version, req.serving)
    arm = Arm(model=version.model, version=version.version, app=app)
    routed, weight, generation = svc.endpoints.route_first(who, req.endpoint, arm)
    if generation is not None:
        _wait_until_routed(settings, req.endpoint, generation)
    return DeployResult(endpoint=req.endpoint, model=version.model, version=version.version,
                        app=app, routed=routed, weight=weight,
                        url=f"{router_url(settings)}/endpoints/{req.endpoint}",
                        version_url=version_url(settings, version.model, version.version))
