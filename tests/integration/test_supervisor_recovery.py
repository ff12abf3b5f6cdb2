"""Nothing is left hanging when the supervisor dies."""

import httpx
import ray

from fleet.cluster import NAMESPACE
from fleet.runtime import SUPERVISOR_NAME
from fleet.runtime.ownership import actor_of
from tests.integration.conftest import wait_until


def test_supervisor_crash_marks_its_running_work_failed_and_keeps_serving(client, http):
    r = http.post("/v1/functions/sleep/spawn", json={"seconds": 60})
    inv_id = r.json()["id"]
    wait_until(lambda: client.get(inv_id).status.value == "running", 30)
    _kill_owner(client, inv_id)
    # The scheduler pings the restarted supervisor, which sweeps the store on start.
    inv = wait_until(lambda: (i := client.get(inv_id)).done and i, 60)
    # sleep has retries=0: the lost run was its one attempt
    assert inv.status.value == "failed" and inv.error_type == "Interrupted"
    assert "Invoke it again" in inv.error_message and "retries=0" in inv.error_message
    # The gateway lives in the supervisor: it is back once the restarted actor is pinged
    # (the other instance serves meanwhile).
    wait_until(lambda: _healthy(http), 60)
    rec = http.post("/v1/functions/hello/invoke", json={"name": "again"}).json()
    assert rec["status"] == "succeeded"


def _kill_owner(client, inv_id: str) -> None:
    """Kill the supervisor instance that runs `inv_id` (either gateway instance took it)."""
    name = actor_of(client.get(inv_id).owner)
    assert name.startswith(SUPERVISOR_NAME)
    ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=False)


def _healthy(http) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def test_a_run_lost_to_a_supervisor_restart_runs_again_while_retries_allow(client, http,
                                                                          tmp_path):
    marker = tmp_path / "attempts"
    r = http.post("/v1/functions/nap_once/spawn", json={"marker": str(marker), "seconds": 60})
    inv_id = r.json()["id"]
    wait_until(lambda: client.get(inv_id).status.value == "running" and marker.exists(), 30)
    _kill_owner(client, inv_id)
    inv = wait_until(lambda: (i := client.get(inv_id)).done and i, 90)
    assert inv.status.value == "succeeded", (inv.error_type, inv.error_message)
    assert inv.attempts == 2 and inv.result == {"runs": 2}
    assert marker.read_text().count("attempt") == 2
