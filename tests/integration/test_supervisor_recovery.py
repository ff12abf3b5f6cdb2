"""Nothing is left hanging when the supervisor dies."""

import httpx
import ray

from fleet.cluster import NAMESPACE
from fleet.runtime import SUPERVISOR_NAME
from tests.integration.conftest import wait_until


def test_supervisor_crash_marks_its_running_work_failed_and_keeps_serving(client, http):
    r = http.post("/v1/functions/sleep/spawn", json={"seconds": 60})
    inv_id = r.json()["id"]
    wait_until(lambda: client.get(inv_id).status.value == "running", 30)
    ray.kill(ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE), no_restart=False)
    # The scheduler pings the restarted supervisor, which sweeps the store on start.
    inv = wait_until(lambda: (i := client.get(inv_id)).done and i, 60)
    assert inv.status.value == "failed" and inv.error_type == "Interrupted"
    assert "Invoke it again" in inv.error_message
    # The gateway lives in the supervisor: it is back once the restarted actor is pinged.
    wait_until(lambda: _healthy(http), 60)
    rec = http.post("/v1/functions/hello/invoke", json={"name": "again"}).json()
    assert rec["status"] == "succeeded"


def _healthy(http) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False
