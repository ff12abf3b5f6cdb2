"""Serving and progressive rollouts on the real cluster: the router in front of version
apps, canary ladders under load, automatic rollback, a controller restart, approvals from
a second identity, shadow and bandit traffic, and analysis through a real Prometheus.

Load comes from bounded loops of plain HTTP requests on 127.0.0.1.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid

import httpx
import pytest

from tests.integration.conftest import (
    ADMIN,
    APPROVER,
    DEPLOYER,
    fleet_cli,
    train_small,
    wait_until,
)

ROW = {"instances": [{"age": 41, "income": 52000.0}]}


@pytest.fixture(scope="module")
def model(client, tmp_path_factory):
    """One trained model with four versions (same weights): v1 serves, the others are
    candidates; faults are injected per deployment where a test needs a bad one."""
    name = f"ro-{uuid.uuid4().hex[:6]}"
    train_small(client, tmp_path_factory.mktemp("rollouts"), name)
    v1 = client.store.models.get(name, 1)
    for _ in range(4):
        client.store.models.register(model=name, artifact_uri=v1.artifact_uri,
                                     flavor=v1.flavor, run_id=None, metrics=v1.metrics,
                                     params=v1.params, lineage=v1.lineage, actor="test")
    return name


@pytest.fixture(scope="module")
def router(client):
    from fleet.serving import router_url

    return router_url(client.settings)


def invoke(http, name, payload, token=ADMIN):
    r = http.post(f"/v1/functions/{name}/invoke?wait=300", json=payload,
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "succeeded", body
    return body["result"]


def deploy(http, model, version, endpoint, **serving):
    return invoke(http, "deploy", {"model": f"{model}:{version}", "endpoint": endpoint,
                                   "serving": {"log_sample_rate": 0, **serving}})


class Load:
    """A bounded background load: `threads` loops, each at most `limit` requests, until
    stopped. Records (start time, status, version header, seconds) per request."""

    def __init__(self, url: str, threads: int = 3, limit: int = 3000, pause_s: float = 0.01,
                 headers: dict | None = None):
        self.url, self.limit, self.pause_s = url, limit, pause_s
        self.headers = headers or {}
        self.records: list[tuple[float, int, str, float]] = []
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._loop, daemon=True)
                        for _ in range(threads)]

    def _loop(self):
        with httpx.Client(timeout=30) as c:
            for _ in range(self.limit):
                if self.stop_event.is_set():
                    return
                t0 = time.time()
                try:
                    r = c.post(self.url, json=ROW, headers=self.headers)
                    rec = (t0, r.status_code, r.headers.get("x-fleet-version", ""),
                           time.time() - t0)
                except httpx.HTTPError:
                    rec = (t0, 0, "", time.time() - t0)
                self.records.append(rec)
                time.sleep(self.pause_s)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(60)


def events(client, rid):
    return client.store.rollouts.events(rid)


def start_and_finish(http, client, endpoint, candidate, spec, serving=None, timeout_s=90):
    """Start a rollout over HTTP and wait until the controller ends it."""
    payload = {"action": "start", "endpoint": endpoint, "model": candidate, "spec": spec}
    if serving:
        payload["serving"] = serving
    rid = invoke(http, "rollout", payload)["rollout"]["id"]
    return wait_until(lambda: (r := client.store.rollouts.get(rid)).status
                      in ("succeeded", "rolled_back") and r, timeout_s=timeout_s)


def test_deploy_routes_through_the_router_with_clear_errors(http, client, model, router):
    out = deploy(http, model, 1, "ro-basic", log_sample_rate=1.0, log_flush_s=1.0)
    assert out["routed"] and out["weight"] == 100 and out["app"] == f"{model}-v1"
    # deploy returns once the router serves the endpoint: the first request is routed
    r = first = httpx.post(f"{router}/endpoints/ro-basic", json=ROW, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["x-fleet-version"] == f"{model}:1"
    direct = httpx.post(out["version_url"], json=ROW, timeout=30,
                        headers={"Authorization": f"Bearer {ADMIN}"}).json()
    assert r.json()["predictions"] == direct["predictions"]
    r = httpx.post(f"{router}/endpoints/ro-basic", json=ROW, timeout=30,
                   headers={"x-fleet-version": "9"})
    assert r.status_code == 404 and "x-fleet-version" in r.json()["detail"]
    r = httpx.post(f"{router}/endpoints/nope", json=ROW, timeout=30)
    assert r.status_code == 404 and "fleet invoke deploy" in r.json()["detail"]
    r = httpx.post(f"{router}/endpoints/ro-basic", json={"instances": [{"age": 1}]},
                   timeout=30)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "instances.0.income"
    # sampled prediction logs (rate 1.0 here) land in artifact storage for drift checks
    from fleet.artifacts import ArtifactStore

    store = ArtifactStore(client.settings)
    prefix = f"{client.settings.artifact_root}/predictions/{model}/v1"
    files = wait_until(lambda: store.list(prefix), timeout_s=30)
    rows = [json.loads(line) for f in files
            for line in store.get_bytes(f"{prefix}/{f}").splitlines()]
    assert rows[0]["input"] == ROW["instances"][0] and "prediction" in rows[0]["output"]
    assert rows[0]["version"] == 1 and rows[0]["latency_ms"] > 0
    # each routed row carries the router's request id, so its label finds it later
    rid = first.headers["x-fleet-request-id"]
    (mine,) = [row for row in rows if row["request_id"] == rid]
    assert mine["row"] == 0
    label = httpx.post(f"{router}/endpoints/ro-basic/feedback", timeout=30,
                       json={"request_id": rid, "label": mine["output"]["prediction"]})
    assert label.status_code == 200 and label.json()["labelled"] == 1
    assert client.store.labels.window("ro-basic", [f"{model}:1"], 0, time.time() + 1) == [
        (rid, 0, mine["output"]["prediction"])]


def test_canary_ladder_under_load_with_approval_and_a_controller_restart(http, client, model,
                                                                        router):
    import ray

    deploy(http, model, 1, "ro-canary")
    spec = {"steps": [20, 50, 100], "interval_s": 2, "hold_s": 2, "drain_s": 1,
            "gates": ["start"], "thresholds": {"min_requests": 5}}
    url = f"{router}/endpoints/ro-canary"
    wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200)
    with Load(url) as load:
        ro = invoke(http, "rollout", {"action": "start", "endpoint": "ro-canary",
                                      "model": f"{model}:2", "spec": spec},
                    token=DEPLOYER)["rollout"]
        rid = ro["id"]
        aid = wait_until(lambda: client.store.rollouts.get(rid).state.get("approval_id"))
        gate = http.get(f"/v1/approvals/{aid}/gate", headers={"Authorization": ""})
        assert gate.status_code == 403  # Flagger-style confirm webhook: closed
        self_ok = http.post(f"/v1/approvals/{aid}/approve",
                            headers={"Authorization": f"Bearer {DEPLOYER}"})
        assert self_ok.status_code == 403 and "cannot approve" in self_ok.json()["detail"]
        no_role = http.post(f"/v1/approvals/{aid}/approve")  # admin: no approver role
        assert no_role.status_code == 403 and "lacks the role" in no_role.json()["detail"]
        ok = fleet_cli("approve", aid, "-m", "ship it", env={**__import__("os").environ,
                                                             "FLEET_TOKEN": APPROVER})
        assert "approved by bob" in ok.stdout
        assert http.get(f"/v1/approvals/{aid}/gate").status_code == 200
        # kill the controller (the scheduler actor) once the first step is live
        wait_until(lambda: any(e["kind"] == "started" for e in events(client, rid)))
        sched = ray.get_actor("fleet-scheduler", namespace="fleet")
        old_pid = ray.get(sched.pid.remote())
        ray.kill(sched, no_restart=False)
        wait_until(lambda: _pid(sched) not in (None, old_pid), timeout_s=60)
        done = wait_until(lambda: (r := client.store.rollouts.get(rid)).status
                          in ("succeeded", "rolled_back", "failed") and r, timeout_s=120)
        assert done.status == "succeeded", events(client, rid)
        wait_until(lambda: client.store.rollouts.get(rid).state.get("retired"), timeout_s=30)
        retired_at = time.time()
        time.sleep(1.5)  # keep the load on after the old version's app is deleted
    evs = events(client, rid)
    steps = [e["weight"] for e in evs if e["kind"] in ("started", "step")]
    assert steps == [20, 50, 100]  # every step once, in order, across the restart
    failed = [r for r in load.records if r[1] != 200]
    assert not failed and len(load.records) > 100
    after = [r for r in load.records if r[0] > retired_at]
    assert after and all(r[2] == f"{model}:2" for r in after)
    seen = {r[2] for r in load.records}
    assert seen == {f"{model}:1", f"{model}:2"}
    endpoint = client.store.endpoints.get("ro-canary")
    assert [v["version"] for v in endpoint.routing["versions"]] == [2]
    kinds = [o["kind"] for o in client.store.outbox.recent(subject=f"rollout:{rid}")]
    assert "rollout.step" in kinds and "rollout.succeeded" in kinds


def _pid(handle):
    import ray

    try:
        return ray.get(handle.pid.remote(), timeout=5)
    except Exception:
        return None


def test_a_bad_canary_is_rolled_back_within_one_interval(http, client, model, router):
    deploy(http, model, 1, "ro-bad")
    url = f"{router}/endpoints/ro-bad"
    wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200)
    spec = {"steps": [20, 50, 100], "interval_s": 3, "drain_s": 1,
            "thresholds": {"min_requests": 5, "success_rate_min": 95}}
    with Load(url) as load:
        done = start_and_finish(http, client, "ro-bad", f"{model}:3", spec,
                                {"fault_error_rate": 0.5})
        time.sleep(1)
    rid = done.id
    assert done.status == "rolled_back"
    evs = events(client, rid)
    started = next(e for e in evs if e["kind"] == "started")
    back = next(e for e in evs if e["kind"] == "rolling_back")
    assert back["step"] == 0 and "success rate" in back["detail"]["reason"]
    assert back["at"] - started["at"] < 3 + 2  # one interval, plus a tick of slack
    bad = [r for r in load.records if r[2] == f"{model}:3"]
    during = [r for r in load.records if started["at"] <= r[0] <= back["at"]]
    assert bad and len(bad) / len(during) < 0.4  # only the canary's 20% share saw it
    assert all(r[2] == f"{model}:3" for r in load.records if r[1] != 200)
    assert all(r[2] == f"{model}:1" for r in load.records if r[0] > back["at"] + 1)


def test_shadow_errors_and_latency_never_reach_callers(http, client, model, router):
    deploy(http, model, 1, "ro-shadow")
    url = f"{router}/endpoints/ro-shadow"
    wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200)
    spec = {"strategy": "shadow", "steps": [50, 100], "interval_s": 3, "drain_s": 1,
            "thresholds": {"min_requests": 5, "success_rate_min": 90}}
    with Load(url, threads=2) as load:
        done = start_and_finish(http, client, "ro-shadow", f"{model}:4", spec,
                                {"fault_error_rate": 0.3, "fault_delay_ms": 400})
    rid = done.id
    assert done.status == "rolled_back"  # 30% shadow errors fail the 90% threshold
    shadowed = [r for r in load.records if r[0] >= done.created_at]
    assert shadowed and all(r[1] == 200 and r[2] == f"{model}:1" for r in shadowed)
    assert statistics.median(r[3] for r in shadowed) < 0.2  # the 400 ms is not theirs
    metrics = httpx.get(f"{router}/metrics", timeout=10).text
    agree = [line for line in metrics.splitlines()
             if line.startswith("fleet_router_shadow_agreement_total")
             and "ro-shadow" in line and 'agree="true"' in line]
    assert agree and float(agree[0].split()[-1]) > 0  # same weights: they agree
    check = next(e for e in events(client, rid) if e["kind"] == "rolling_back")
    assert check["detail"]["analysis"]["agreement"] == 100.0


def test_the_bandit_sends_most_traffic_to_the_better_arm(http, client, model, router):
    deploy(http, model, 1, "ro-bandit")
    url = f"{router}/endpoints/ro-bandit"
    wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200)
    spec = {"strategy": "bandit", "steps": [100], "interval_s": 600}
    rid = invoke(http, "rollout", {"action": "start", "endpoint": "ro-bandit",
                                   "model": f"{model}:5", "spec": spec})["rollout"]["id"]
    wait_until(lambda: client.store.endpoints.get("ro-bandit").routing["strategy"] == "bandit")
    time.sleep(0.5)  # the router's cached table refreshes every 0.2 s here
    rates = {f"{model}:5": 0.9, f"{model}:1": 0.2}
    rng = __import__("random").Random(11)
    picks = []
    with httpx.Client(timeout=30) as c:
        for _ in range(240):
            r = c.post(url, json=ROW)
            assert r.status_code == 200
            version = r.headers["x-fleet-version"]
            picks.append(version)
            reward = 1.0 if rng.random() < rates[version] else 0.0
            fb = c.post(f"{url}/feedback", json={"request_id": r.headers["x-fleet-request-id"],
                                                 "reward": reward})
            assert fb.status_code == 200, fb.text
    last = picks[-100:]
    assert last.count(f"{model}:5") >= 80, picks
    arms = http.get("/v1/endpoints/ro-bandit").json()["arms"]
    assert arms[f"{model}:5"]["pulls"] + arms[f"{model}:1"]["pulls"] == 240
    bad = httpx.post(f"{url}/feedback", json={"request_id": "nope", "reward": 1}, timeout=10)
    assert bad.status_code == 404
    assert httpx.post(f"{url}/feedback", json={"reward": 7}, timeout=10).status_code == 422
    invoke(http, "rollout", {"action": "abort", "endpoint": "ro-bandit", "id": rid})


def test_analysis_through_a_real_prometheus(http, client, model, router, prometheus):
    if prometheus is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    deploy(http, model, 1, "ro-prom")
    url = f"{router}/endpoints/ro-prom"
    wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200)
    spec = {"steps": [50, 100], "interval_s": 4, "analysis": "prometheus",
            "thresholds": {"min_requests": 5, "success_rate_min": 95}}
    with Load(url):
        done = start_and_finish(http, client, "ro-prom", f"{model}:3", spec,
                                {"fault_error_rate": 0.5})
    assert done.status == "rolled_back"
    checks = [e["detail"]["analysis"] for e in events(client, done.id)
              if (e.get("detail") or {}).get("analysis")]
    failing = [c for c in checks if c["result"] == "fail"][0]
    assert failing["requests"] > 0 and failing["success_rate"] < 95
    r = httpx.get(f"{prometheus}/api/v1/query",
                  params={"query": 'sum(fleet_router_requests_total{endpoint="ro-prom"})'})
    assert float(r.json()["data"]["result"][0]["value"][1]) > 0
    # cluster/grafana's dashboard against this Prometheus (scraping the router and the
    # gateway, with cluster/prometheus's rules): every query parses; those about what ran
    # here return data (drift and GPU panels have none in this module, on this machine)
    from tests.unit.test_cluster_configs import dashboard_queries

    needs_data = {"Invocations by function and status", "Throughput per version",
                  "Invocation latency by function (p50, p95)", "Error rate per version",
                  "Latency per version (p50, p95, p99)", "Canary weight over time"}

    def query(expr):
        body = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=30).json()
        assert body["status"] == "success", (expr, body)
        return body["data"]["result"]

    for title, expr in dashboard_queries():
        result = query(expr)
        if title in needs_data:
            assert result, f"{title}: no data for {expr}"
    assert query('endpoint_version:fleet_router_requests:rate5m{endpoint="ro-prom"}')


def test_a_lost_version_app_is_restored_as_it_was_deployed(http, client, model, router):
    """Serve's apps die with the cluster, the routing tables do not: the Fleet server calls
    restore() at start. Here the app is deleted behind the router's back."""
    from ray import serve

    from serve_apps.model import restore

    deploy(http, model, 1, "ro-restore", max_batch_size=8)
    url = f"{router}/endpoints/ro-restore"
    assert httpx.post(url, json=ROW, timeout=30).status_code == 200
    serve.delete(f"{model}-v1")
    # the router answers a clear 503 (after serving.request_timeout_s), never hangs
    assert httpx.post(url, json=ROW, timeout=60).status_code == 503
    assert f"{model}-v1" in restore(client.settings)
    r = wait_until(lambda: (x := httpx.post(url, json=ROW, timeout=30)).status_code == 200
                   and x, timeout_s=60)
    assert r.headers["x-fleet-version"] == f"{model}:1"
    kept = client.store.endpoints.deployments()[f"{model}-v1"]["options"]
    assert kept["max_batch_size"] == 8


def _notifier(slack, log_path):
    """`fleet bot notify` as its own process, against the fake Slack Web API."""
    import os
    import subprocess

    from tests.integration.conftest import BOT, FLEET, ROOT

    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "FLEET_BOT_TOKEN": BOT,
           "SLACK_API_URL": slack.url}
    return subprocess.Popen([FLEET, "bot", "notify", "--lease-s", "3"], cwd=ROOT, env=env,
                            stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_slack_down_then_rate_limiting_then_a_killed_notifier_lose_and_repeat_nothing(
        http, client, model, router, tmp_path):
    """The rollout runs while the Slack API is down for 60 s; a notifier is SIGKILLed while
    Slack is taking in its post; then two notifiers meet 429s with Retry-After. In the end
    every event has reached Slack once, in order per rollout, and the rollout's one message
    shows how it ended."""
    from tests.support.fake_slack import FakeSlack

    slack = FakeSlack()
    first = _notifier(slack, tmp_path / "a.log")
    others = []
    try:
        # the outbox's backlog from earlier tests goes first, while Slack is up
        wait_until(lambda: not client.store.outbox.pending("slack"), timeout_s=180)
        deploy(http, model, 1, "ro-notify")
        url = f"{router}/endpoints/ro-notify"
        wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200)
        spec = {"steps": [25, 100], "interval_s": 2, "hold_s": 1, "drain_s": 1,
                "gates": ["start"], "thresholds": {"min_requests": 5}}
        slack.go_down()
        down_at = time.monotonic()
        with Load(url, threads=2):
            rid = invoke(http, "rollout", {"action": "start", "endpoint": "ro-notify",
                                           "model": f"{model}:2", "spec": spec},
                         token=DEPLOYER)["rollout"]["id"]
            aid = wait_until(lambda: client.store.rollouts.get(rid).state.get("approval_id"))
            assert http.post(f"/v1/approvals/{aid}/approve",
                             headers={"Authorization": f"Bearer {APPROVER}"}).status_code == 200
            done = wait_until(lambda: (r := client.store.rollouts.get(rid)).status
                              in ("succeeded", "rolled_back", "failed") and r, timeout_s=60)
        assert done.status == "succeeded"
        subject = f"rollout:{rid}"
        assert [e["id"] for e in client.store.outbox.pending("slack")
                if e["subject"] == subject]  # nothing reached Slack while it was down
        time.sleep(max(0.0, 60 - (time.monotonic() - down_at)))

        slack.slow("chat.postMessage", 4)  # back, but slow: posts take effect, answers wait
        slack.come_up()
        wait_until(lambda: slack.in_flight > 0, timeout_s=30)
        first.kill()  # mid-delivery: Slack has the message, the notifier never reported it
        first.wait(10)
        slack.slow("chat.postMessage", 0)
        slack.rate_limit(5, retry_after=2)
        others = [_notifier(slack, tmp_path / f"{n}.log") for n in ("b", "c")]
        wait_until(lambda: not client.store.outbox.pending("slack"), timeout_s=120)
    finally:
        for p in (first, *others):
            p.kill()
            p.wait(10)
        slack.stop()

    logs = "\n".join(p.read_text()[-1500:] for p in tmp_path.glob("*.log"))
    assert slack.refused > 0, logs  # the 429s were met
    posted = [m for msgs in slack.messages.values() for m in msgs]
    tagged = [(m["metadata"]["event_type"], m["metadata"]["event_payload"]["event_id"])
              for m in posted if m.get("metadata")]
    assert len(tagged) == len(set(tagged)), "an event was posted twice"
    channel = slack.messages["#fleet-rollouts"]
    mains = [m for m in channel if (m.get("metadata") or {}).get("event_type")
             == "fleet_rollout" and m["metadata"]["event_payload"]["subject"] == subject]
    assert len(mains) == 1, [(m["ts"], m["metadata"]) for m in mains]  # one per rollout
    main = mains[0]
    assert "*succeeded*" in main["text"] and "edited" in main  # updated in place
    replies = [m for m in channel if m.get("thread_ts") == main["ts"]]
    events_ = [e for e in client.store.outbox.recent(subject=subject, limit=1000)
               if e["kind"] != "rollout.created"]
    assert [m["metadata"]["event_payload"]["event_id"] for m in replies] == [
        e["id"] for e in events_]  # each once, in the order they happened
    assert all(e["deliveries"]["slack"] == "delivered" for e in events_)
    (ask,) = [m for m in channel if (m.get("metadata") or {}).get("event_payload", {})
              .get("subject") == f"approval:{aid}"]
    assert "*approved* by bob" in ask["text"] and not [
        b for b in ask["blocks"] if b["type"] == "actions"]  # decided: no buttons
    dead = client.store.outbox.deliveries(consumer="slack", state="dead")
    assert not dead, dead
