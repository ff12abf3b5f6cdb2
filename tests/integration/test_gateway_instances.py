"""Two gateway instances on one port (each a supervisor actor, SO_REUSEPORT): both take
invocations, killing one under steady traffic loses only the requests it held, a cancel
reaches the instance that runs the invocation, and Ray brings the killed one back.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import time

import httpx

from bench.loadgen import CALLERS, Load, instances, kill_under_load
from fleet.runtime.ownership import actor_of
from tests.integration.conftest import ADMIN, wait_until

HELLO = json.dumps({"name": "load"})
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def supervisors() -> dict[str, int]:
    """Live supervisor instances: actor name -> pid."""
    return instances("Supervisor")


def owners_since(client, at: float) -> dict[str, int]:
    """Which instance ran the HTTP hello invocations made since `at`, and how many each."""
    out: dict[str, int] = {}
    for inv in client.list(function="hello", via="http", limit=500):
        if inv.created_at >= at:
            out[actor_of(inv.owner)] = out.get(actor_of(inv.owner), 0) + 1
    return out


def invokes(exposition: str) -> float:
    """The invoke route's requests that the exposition counts, whatever their status."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(s.value for fam in text_string_to_metric_families(exposition)
               for s in fam.samples if s.name == "fleet_http_requests_total"
               and s.labels.get("route") == "/v1/functions/{name}/invoke")


def own_counts() -> dict[str, float]:
    """Each instance's own invoke count (what it would say alone)."""
    import ray

    from fleet.cluster import NAMESPACE

    return {name: invokes(ray.get(ray.get_actor(name, namespace=NAMESPACE)
                                  .http_counters.remote(), timeout=10).decode())
            for name in sorted(supervisors())}


def spawned_on_instance_1(client, gateway_url: str, function: str, payload,
                          key=lambda _: None):
    """Spawn `function` over new connections (which spread over the instances) until one
    lands on the second instance; those that land on the primary are cancelled.
    `payload(i)` and `key(i)` (an Idempotency-Key, or None) for the i-th try."""
    with httpx.Client(base_url=gateway_url, headers=AUTH, timeout=30) as c:
        for i in range(40):
            headers = {"connection": "close"}
            if key(i) is not None:
                headers["Idempotency-Key"] = key(i)
            r = c.post(f"/v1/functions/{function}/spawn", json=payload(i), headers=headers)
            inv = client.get(r.json()["id"])
            if actor_of(inv.owner) == "fleet-supervisor-1":
                return inv
            client.cancel(inv.id)
    raise AssertionError(f"no spawn of {function} reached instance 1 in 40 tries")


def test_a_gateway_instance_killed_under_load_loses_only_the_requests_it_held(
        client, gateway_url, http):
    url = f"{gateway_url}/v1/functions/hello/invoke?wait=30"
    assert sorted(supervisors()) == ["fleet-supervisor", "fleet-supervisor-1"]
    began = time.time()
    with Load(url, HELLO, AUTH, limit=100):  # both instances take connections on the port
        time.sleep(2)
    assert sorted(owners_since(client, began)) == ["fleet-supervisor", "fleet-supervisor-1"]
    own = own_counts()
    assert all(n > 0 for n in own.values()), own
    for _ in range(3):  # whichever instance answers /metrics sums both request counters
        merged = httpx.get(f"{gateway_url}/metrics", timeout=10).text
        assert "fleet_gateway_instances 2.0" in merged
        assert invokes(merged) == sum(own.values())

    # The primary: it also holds the store's sweep lease and runs what the CLI hands over.
    victim = supervisors()["fleet-supervisor"]
    load, killed_at = kill_under_load(victim, url, HELLO, AUTH)
    failed, after = load.failed_across(killed_at)
    # Only requests in flight while the instance died fail: none that started after.
    # ... and both kinds of caller went on being served: new connections, and kept ones
    # that reconnected (a count, not a rate: a loaded machine may serve few in 4 s).
    assert all(rec[3] for rec in after), (killed_at, load.gone_at, failed)
    assert min(Load.by_kind(after).values()) >= CALLERS, Load.by_kind(after)

    # Ray restarts it, the scheduler's ping starts its gateway again, and it takes
    # invocations again, under load, without failing any; the CLI path works again.
    wait_until(lambda: supervisors().get("fleet-supervisor") not in (None, victim), 60, 0.5)
    back = time.time()
    with Load(url, HELLO, AUTH) as load:
        wait_until(lambda: owners_since(client, back).get("fleet-supervisor", 0) > 0, 90, 0.5)
    print(f"back {time.time() - killed_at:.1f}s after the kill")
    assert load.records and all(rec[3] for rec in load.records)
    assert client.invoke("hello", {"name": "cli"}).status.value == "succeeded"
    wait_until(lambda: _healthy(http), 30)


def test_a_cancel_reaches_the_instance_that_runs_the_invocation(client, gateway_url):
    """The CLI's cancel goes to the primary; one the other instance runs is passed on to
    it, which stops the task (the worker process is gone, not just the record)."""
    from ray.util.state import list_tasks

    inv = spawned_on_instance_1(client, gateway_url, "sleep", lambda _: {"seconds": 120})
    wait_until(lambda: client.get(inv.id).status.value == "running", 60)
    done = client.cancel(inv.id, caller="ann")
    assert done.status.value == "cancelled" and "ann" in done.error_message

    def still_running() -> bool:
        return any(t.state == "RUNNING" for t in list_tasks(
            filters=[("name", "=", "fleet:sleep")], limit=1000))

    wait_until(lambda: not still_running(), 30, 0.5)


def _healthy(http) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def test_a_key_the_other_instance_runs_is_not_run_again_by_a_repeat(client, gateway_url,
                                                                   tmp_path):
    """An idempotent repeat that reaches an instance other than the one running the
    invocation (the CLI's always reaches the primary; HTTP's either) waits for that run
    and gets its outcome: the function body runs once."""
    inv = spawned_on_instance_1(client, gateway_url, "nap_once",
                                lambda i: {"marker": str(tmp_path / f"m{i}"), "seconds": 3},
                                key=lambda i: f"repeat-{tmp_path.name}-{i}")
    marker, key = inv.payload["marker"], inv.idempotency_key
    wait_until(lambda: client.get(inv.id).status.value == "running", 60)

    def over_http(_):
        return httpx.post(f"{gateway_url}/v1/functions/nap_once/invoke?wait=60",
                          json=inv.payload, timeout=90,
                          headers={**AUTH, "Idempotency-Key": key, "connection": "close"})

    with cf.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(over_http, range(4)))
        # the same caller from Python (a key is its caller's: fleet.names.scoped_key)
        repeat = client.invoke("nap_once", inv.payload, idempotency_key=key,
                               caller=inv.caller)
    assert repeat.id == inv.id and repeat.status.value == "succeeded", repeat
    assert repeat.result["runs"] == 1  # the first attempt's own answer
    assert {(a.json()["id"], a.json()["status"]) for a in answers} == {(inv.id, "succeeded")}
    assert open(marker).read().splitlines() == ["attempt"]  # one run, not two
