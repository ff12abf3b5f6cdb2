"""Warm functions (`warm=N, max_inputs=M`): invocations share a loaded runner process, and
the task path's promises hold there too: timeouts, cancels and dead processes.

Each gateway instance keeps its own runners (fleet.runtime.runners), so these tests invoke
through the Python client, which always reaches the primary instance: HTTP requests would
spread over both instances' runners."""

import concurrent.futures as cf
import os

from tests.integration.conftest import wait_until


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _pid(client) -> int:
    rec = client.invoke("warm_nap", {})
    assert rec.status.value == "succeeded", (rec.error_type, rec.error_message)
    return rec.result["pid"]


def test_invocations_of_a_warm_function_overlap_in_one_process(client):
    with cf.ThreadPoolExecutor(4) as pool:
        recs = list(pool.map(lambda _: client.invoke("warm_nap", {"seconds": 0.6}), range(4)))
    assert [r.status.value for r in recs] == ["succeeded"] * 4, recs
    assert len({r.result["pid"] for r in recs}) == 1  # one runner took all four
    starts = [r.started_at for r in recs]
    ends = [r.finished_at for r in recs]
    assert max(starts) < min(ends)  # all four ran at once (max_inputs=4)
    assert _pid(client) == recs[0].result["pid"]  # and it stays warm


def test_a_timed_out_warm_invocation_retires_its_runner_and_spares_its_neighbour(client):
    import time

    old = _pid(client)
    stuck = client.invoke("warm_nap", {"seconds": 60}, wait=False).id
    time.sleep(2)  # the neighbour ends 1 s after the stuck one times out, 1 s before its own
    neighbour = client.invoke("warm_nap", {"seconds": 5}, wait=False).id
    wait_until(lambda: client.get(stuck).done, 30)
    rec = client.get(stuck)
    assert rec.status.value == "timed_out" and rec.error_type == "TimeoutError"
    # The stuck thread cannot be stopped, so a fresh runner takes new work at once...
    assert _pid(client) != old
    # ...while the old one finishes what it holds, and is killed after it.
    wait_until(lambda: client.get(neighbour).done, 30)
    rec = client.get(neighbour)
    assert rec.status.value == "succeeded", (rec.status, rec.error_message)
    wait_until(lambda: _gone(old), 30)


def test_a_cancelled_warm_invocation_is_recorded_and_its_runner_replaced(http, client):
    old = _pid(client)
    inv = client.invoke("warm_nap", {"seconds": 60}, wait=False).id
    wait_until(lambda: client.get(inv).status.value == "running", 30)
    rec = http.post(f"/v1/invocations/{inv}/cancel").json()  # either instance: passed on
    assert rec["status"] == "cancelled"
    wait_until(lambda: _gone(old), 30)
    assert _pid(client) != old


def test_a_killed_runner_comes_back_and_the_invocation_runs_again(client, tmp_path):
    rec = client.invoke("warm_nap", {"marker": str(tmp_path / "a"), "survive_after": 2})
    assert rec.status.value == "succeeded" and rec.attempts == 2, (rec.error_message,
                                                                   rec.attempts)
    assert rec.result["runs"] == 2
    rec = client.invoke("warm_nap", {"marker": str(tmp_path / "b")})  # dies every time
    assert rec.status.value == "failed", rec
    assert "died 2 time(s) (retries=1)" in rec.error_message
    assert _pid(client) > 0  # a warm runner serves again
