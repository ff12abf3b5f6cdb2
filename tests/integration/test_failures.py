"""Bad input and bad functions, each with a clear outcome; the gateway serves throughout."""

import concurrent.futures as cf

import httpx

from tests.integration.conftest import READER


def test_http_refusals_on_the_live_gateway(http, gateway_url):
    assert httpx.post(f"{gateway_url}/v1/functions/mark/invoke", json={}).status_code == 401
    r = httpx.post(f"{gateway_url}/v1/functions/mark/invoke", json={},
                   headers={"Authorization": f"Bearer {READER}"})
    assert r.status_code == 403
    assert http.post("/v1/functions/nope/invoke", json={}).status_code == 404
    r = http.post("/v1/functions/mark/invoke", json={"path": 3, "tagg": "x"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"path", "tagg"}
    r = http.post("/v1/functions/mark/invoke", content=b"{" + b" " * 70000 + b"}")
    assert r.status_code == 413


def test_a_raising_function_is_recorded_failed_with_type_and_message_not_retried(http):
    rec = http.post("/v1/functions/boom/invoke", json={}).json()
    assert rec["status"] == "failed" and rec["attempts"] == 1  # retries=2 is for dead workers
    assert rec["error"] == {"type": "ValueError", "message": "the input table has no rows"}
    assert "Traceback" not in str(rec)


def test_a_function_past_its_timeout_is_timed_out(http):
    rec = http.post("/v1/functions/too_slow/invoke", json={"seconds": 60}).json()
    assert rec["status"] == "timed_out" and rec["error"]["type"] == "TimeoutError"
    assert 1.4 < rec["duration_s"] < 15


def test_a_dying_worker_is_retried_then_failed(http, tmp_path):
    marker = tmp_path / "attempts"
    rec = http.post("/v1/functions/die/invoke", json={"marker": str(marker)}).json()
    assert rec["status"] == "failed", rec
    assert rec["error"]["type"] == "WorkerCrashedError"
    assert "died 2 time(s) (retries=1)" in rec["error"]["message"]
    assert len(marker.read_text().splitlines()) == 2 and rec["attempts"] == 2


def test_a_worker_that_dies_once_succeeds_on_the_retry(http, tmp_path):
    marker = tmp_path / "attempts"
    rec = http.post("/v1/functions/die/invoke",
                    json={"marker": str(marker), "survive_after": 2}).json()
    assert rec["status"] == "succeeded" and rec["attempts"] == 2 and rec["result"]["runs"] == 2


def test_gateway_still_serves_after_all_of_that(http):
    assert http.get("/healthz").json()["status"] == "ok"
    rec = http.post("/v1/functions/hello/invoke", json={"name": "after"}).json()
    assert rec["result"] == {"greeting": "Hello, after!"}


def test_wait_limit_turns_into_202_and_the_invocation_finishes(http):
    r = http.post("/v1/functions/sleep/invoke?wait=0.5", json={"seconds": 2})
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    from tests.integration.conftest import wait_until

    wait_until(lambda: http.get(r.headers["location"]).json()["status"] == "succeeded", 30)


def test_same_idempotency_key_runs_once_even_concurrently(http, tmp_path):
    out = tmp_path / "once.txt"
    key = f"idem-{tmp_path.name}"

    def call(_):
        return http.post("/v1/functions/mark/invoke", json={"path": str(out)},
                         headers={"Idempotency-Key": key})

    with cf.ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(call, range(4)))
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(r.json()["status"] == "succeeded" for r in responses)
    assert out.read_text().splitlines() == ["run"]
    again = http.post("/v1/functions/mark/invoke", json={"path": str(out)},
                      headers={"Idempotency-Key": key}).json()
    assert again["id"] == responses[0].json()["id"] and out.read_text().splitlines() == ["run"]


def test_cancel_stops_a_running_invocation(http, client):
    r = http.post("/v1/functions/sleep/spawn", json={"seconds": 60})
    inv_id = r.json()["id"]
    from tests.integration.conftest import wait_until

    wait_until(lambda: client.get(inv_id).status.value == "running", 30)
    rec = http.post(f"/v1/invocations/{inv_id}/cancel").json()
    assert rec["status"] == "cancelled" and rec["error"]["message"] == "Cancelled by admin."
    again = http.post(f"/v1/invocations/{inv_id}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_metrics_count_invocations_by_function_status_and_entry_point(http):
    http.post("/v1/functions/hello/invoke", json={})
    import time

    time.sleep(2.1)  # the store-backed collector caches for 2 s
    text = http.get("/metrics").text
    assert 'fleet_invocations_total{function="hello",status="succeeded",via="http"}' in text
    assert 'fleet_invocations_total{function="boom",status="failed",via="http"}' in text
    assert 'fleet_invocation_duration_seconds_count{function="hello"}' in text
    assert 'fleet_http_requests_total{code="200",route="/v1/functions/{name}/invoke"}' in text


def test_resources_no_node_has_are_refused_at_once(http):
    rec = http.post("/v1/functions/needs_gpu/invoke", json={}).json()
    assert rec["status"] == "failed" and rec["error"]["type"] == "Unschedulable", rec
    msg = rec["error"]["message"]
    assert "1 GPU" in msg and "0 GPU" in msg and "largest node" in msg
    assert rec["duration_s"] < 2  # not its 5 s timeout


def test_a_timeout_counts_from_the_invocation_while_it_waits_for_resources(http):
    holder = http.post("/v1/functions/sleep/spawn", json={"seconds": 20}).json()  # 0.1 CPU
    try:
        rec = http.post("/v1/functions/wide/invoke", json={}).json()
        assert rec["status"] == "timed_out", rec
        assert rec["started_at"] is None and rec["attempts"] == 0
        assert "never started" in rec["error"]["message"]
        assert "2 CPU" in rec["error"]["message"]
        assert 2.9 < rec["duration_s"] < 10
    finally:
        http.post(f"/v1/invocations/{holder['id']}/cancel")
