"""Two router instances on one port (SO_REUSEPORT): killing one under steady traffic loses
only the requests it held, its /metrics answer sums both, and Ray brings it back.

Load comes from bounded loops of plain HTTP requests on 127.0.0.1: half the callers open a
new connection per request (keep-alive off), half keep one connection open.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest

from bench.loadgen import CALLERS, Load, instances, kill_under_load
from tests.integration.conftest import ADMIN, train_small, wait_until

ROW = json.dumps({"instances": [{"age": 41, "income": 52000.0}]})


def routers() -> dict[str, int]:
    """Live router instances: actor name -> pid."""
    return instances("RouterActor")


def routed(exposition: str, endpoint: str) -> float:
    """Requests the exposition counts for `endpoint`, all versions and outcomes."""
    pattern = re.compile(r'^fleet_router_requests_total\{([^}]*)\} (\S+)$', re.M)
    return sum(float(v) for labels, v in pattern.findall(exposition)
               if f'endpoint="{endpoint}"' in labels)


def own_counts(endpoint: str) -> dict[str, float]:
    import ray

    from fleet.cluster import NAMESPACE

    return {name: routed(ray.get(ray.get_actor(name, namespace=NAMESPACE)
                                 .counters.remote(), timeout=10).decode(), endpoint)
            for name in sorted(routers())}


def test_a_router_killed_under_load_loses_only_the_requests_it_held(http, client, router,
                                                                     tmp_path_factory):
    name, endpoint = f"rk-{uuid.uuid4().hex[:6]}", "rk-instances"
    train_small(client, tmp_path_factory.mktemp("router-kill"), name)
    r = http.post("/v1/functions/deploy/invoke?wait=300",
                  headers={"Authorization": f"Bearer {ADMIN}"},
                  json={"model": f"{name}:1", "endpoint": endpoint,
                        "serving": {"log_sample_rate": 0}})
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    url = f"{router}/endpoints/{endpoint}"
    assert sorted(routers()) == ["fleet-router-0", "fleet-router-1"]

    with Load(url, ROW, limit=200):  # both instances take connections on the one port ...
        time.sleep(2)
    counts = own_counts(endpoint)
    assert all(n > 0 for n in counts.values()), counts
    for _ in range(3):  # ... and whichever answers /metrics counts both
        merged = httpx.get(f"{router}/metrics", timeout=10).text
        assert "fleet_router_instances 2.0" in merged
        assert routed(merged, endpoint) == sum(counts.values())

    victim = routers()["fleet-router-0"]
    load, killed_at = kill_under_load(victim, url, ROW)
    failed, after = load.failed_across(killed_at)
    # Only requests in flight while the instance died fail (those it held, and connections
    # the kernel queued on its socket until the process was gone): none that started after.
    # ... and both kinds of caller went on being served: new connections, and kept ones
    # that reconnected (a count, not a rate: a loaded machine may serve few in 4 s).
    assert all(rec[3] for rec in after), (killed_at, load.gone_at, failed)
    assert min(Load.by_kind(after).values()) >= CALLERS, Load.by_kind(after)

    # Ray restarts the instance, the scheduler's ping starts its server again, and it takes
    # connections again: under load, without failing any.
    wait_until(lambda: routers().get("fleet-router-0") not in (None, victim), 60, 0.5)
    with Load(url, ROW) as load:
        wait_until(lambda: own_counts(endpoint).get("fleet-router-0", 0) > 0, 90, 0.5)
    print(f"back {time.time() - killed_at:.1f}s after the kill")
    assert load.records and all(rec[3] for rec in load.records)
    assert "fleet_router_instances 2.0" in httpx.get(f"{router}/metrics", timeout=10).text
    assert httpx.get(f"{router}/healthz", timeout=10).json()["instances"] == 2


@pytest.fixture(scope="module")
def router(client):
    from fleet.serving import router_url

    return router_url(client.settings)
