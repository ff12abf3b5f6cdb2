"""Fleet on a three-node Ray cluster on one machine (`fleet up --workers 2`), with
PostgreSQL and SeaweedFS for the state every node shares.

The installation is this module's own (its FLEET_HOME, ports and store), beside the
session's single-node one; the tests reach it only through its real entry points: the
`fleet` command, the gateway's HTTP API, Ray's dashboard API and the store.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from fleet.ray_paths import short_dir
from tests.conftest import ROOT, TMP
from tests.integration.conftest import fleet_cli, wait_until
from tests.support.postgres import create_database, free_port
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY

ADMIN = "mn-admin-token-0123456789"
PG_PASSWORD = "mn-pg-password-not-for-ray"  # trust auth ignores it; it must never leak
BUCKET = "fleet-multinode"
ROW = {"instances": [{"age": 41, "income": 52000.0}]}


def _database(base_url: str) -> str:
    """A fresh database, its URL with a password (trust auth ignores it)."""
    return create_database(base_url, "mn").replace("fleet@", f"fleet:{PG_PASSWORD}@")


@pytest.fixture(scope="module")
def cluster(postgres_server, s3_server):
    """A head and two worker nodes, started by `fleet up --workers 2`; secrets only in the
    environment, never in fleet.yaml."""
    import boto3

    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY,
                 aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
                 ).create_bucket(Bucket=BUCKET)
    home = TMP / f"mn-{os.getpid()}"
    home.mkdir(parents=True, exist_ok=True)
    gateway = free_port()
    (home / "fleet.yaml").write_text(f"""
function_modules: [functions, fleet_multinode_funcs]
function_paths: [{ROOT / 'tests' / 'fixtures'}]
tokens:
  - {{name: admin, token: {ADMIN}, scopes: [admin]}}
gateway: {{port: {gateway}}}
serving: {{serve_port: {free_port()}, router_port: {free_port()}, apps: []}}
cluster: {{num_cpus: 2, gcs_port: {free_port()}, dashboard_port: {free_port()}}}
artifacts: {{root: 's3://{BUCKET}/artifacts', s3_endpoint_url: '{s3_server}'}}
data_roots: ['s3://{BUCKET}/data']
""")
    env = {**os.environ, "FLEET_HOME": str(home),
           # Its own: Ray's "auto" (the state API in this test process) reads the latest
           # cluster from RAY_TMPDIR, and must keep finding the session's installation.
           "RAY_TMPDIR": short_dir("mn", ROOT),
           "FLEET_STORE_URL": _database(postgres_server),
           "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    Path(env["RAY_TMPDIR"]).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    up = fleet_cli("up", "--workers", "2", check=False, env=env, timeout=600)
    if up.returncode != 0:
        logs = "\n".join(p.read_text()[-2000:] for p in (home / "logs").glob("*.log"))
        pytest.fail(f"fleet up --workers 2 failed: {up.stdout}\n{up.stderr}\n{logs}")
    print(f"fleet up --workers 2 took {time.monotonic() - started:.1f}s")
    info = json.loads((home / "run" / "cluster.json").read_text())
    token = (Path.home() / ".ray" / "auth_token").read_text().strip()
    dashboard = httpx.Client(base_url=info["dashboard_url"], timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
    gw = httpx.Client(base_url=info["gateway_url"], timeout=120,
                      headers={"Authorization": f"Bearer {ADMIN}"})
    from fleet.store import open_store

    store = open_store(env["FLEET_STORE_URL"].replace("postgresql://",
                                                      "postgresql+psycopg://"))
    yield {"env": env, "s3": s3_server, "home": home, "info": info, "dashboard": dashboard,
           "http": gw, "store": store}
    store.close()
    gw.close()
    dashboard.close()
    fleet_cli("down", check=False, env=env)


def state(cluster, kind: str) -> list[dict]:
    """Ray's state API (nodes, actors, jobs) over the dashboard's HTTP, with the token."""
    r = cluster["dashboard"].get(f"/api/v0/{kind}", params={"detail": "true", "limit": 1000})
    r.raise_for_status()
    return r.json()["data"]["result"]["result"]


def nodes(cluster) -> dict[str, dict]:
    return {n["node_id"]: n for n in state(cluster, "nodes") if n["state"] == "ALIVE"}


def test_fleet_up_refuses_a_sqlite_store_on_many_nodes(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "FLEET_HOME": str(home)}
    env.pop("FLEET_STORE_URL", None)
    r = fleet_cli("up", "--workers", "2", check=False, env=env)
    assert r.returncode != 0
    said = " ".join(r.stderr.split())
    assert "3 nodes" in said and "SQLite" in said and "PostgreSQL" in said, said
    assert not (home / "run" / "cluster.json").exists()  # nothing was started
    (home / "fleet.yaml").write_text((home / "fleet.yaml").read_text()
                                     + "store_url: postgresql+psycopg://fleet@db/fleet\n")
    r = fleet_cli("up", "--workers", "1", check=False, env=env)
    said = " ".join(r.stderr.split())
    assert r.returncode != 0 and "artifacts.root" in said and "artifacts.shared" in said, said


def test_three_nodes_with_fleets_actors_on_the_head(cluster):
    alive = nodes(cluster)
    assert len(alive) == 3
    labels = sorted(n["labels"].get("fleet.io/node", "head") for n in alive.values())
    assert labels == ["head", "worker-1", "worker-2"]
    head = next(i for i, n in alive.items() if n["is_head_node"])
    control = ("fleet-supervisor", "fleet-supervisor-1", "fleet-scheduler", "fleet-router-0",
               "fleet-router-1")
    placed = {a["name"]: a["node_id"] for a in state(cluster, "actors")
              if a["state"] == "ALIVE" and a["name"] in control}
    assert placed == dict.fromkeys(control, head)


def test_an_invocation_on_a_worker_node_records_its_outcome(cluster):
    http = cluster["http"]
    r = http.post("/v1/functions/on_worker_two/invoke", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "succeeded" and body["result"]["label"] == "worker-2"
    assert not nodes(cluster)[body["result"]["node_id"]]["is_head_node"]
    again = http.get(f"/v1/invocations/{body['id']}").json()  # read back from the store
    assert again["status"] == "succeeded" and again["result"] == body["result"]


def test_no_secret_travels_in_a_runtime_env(cluster):
    http = cluster["http"]
    spawned = http.post("/v1/functions/where/spawn", json={})  # a job and tasks exist
    assert spawned.status_code == 202
    shown = "\n".join(a.get("serialized_runtime_env") or ""
                      for a in state(cluster, "actors"))
    jobs = cluster["dashboard"].get("/api/jobs/").json()
    shown += "\n".join(json.dumps(j.get("runtime_env")) for j in jobs)
    assert '"FLEET_HOME"' in shown  # what the actors are told is there ...
    for secret in (PG_PASSWORD, SECRET_KEY):
        assert secret not in shown  # ... and no secret is


@pytest.mark.slow  # 107-228 s: make test-slow (make test stays under its 25 min)
@pytest.mark.timeout(600)  # the module's cluster may start inside it, 85-115 s
def test_training_spreads_over_two_nodes_and_survives_losing_one(cluster, tmp_path):
    """Ray Train workers on two nodes; SIGKILL one worker node mid-run (its raylet, object
    store and workers): the run resumes on the nodes left from its last checkpoint."""
    import boto3

    from fleet.cli.demo import make_data

    table, _ = make_data(tmp_path, rows=60_000)
    s3 = boto3.client("s3", endpoint_url=cluster["s3"],
                      aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                      region_name="us-east-1")
    s3.upload_file(str(table), BUCKET, "data/churn.parquet")
    exp = f"mn-{uuid.uuid4().hex[:6]}"
    r = cluster["http"].post("/v1/functions/train/spawn", json={
        "data": f"s3://{BUCKET}/data/churn.parquet", "features": ["age", "income"],
        "label": "churned", "experiment": exp, "epochs": 8, "num_workers": 2,
        "placement_strategy": "STRICT_SPREAD", "max_failures": 2})
    assert r.status_code == 202, r.text
    inv_id = r.json()["id"]
    store = cluster["store"]

    def epochs_done() -> int:
        runs = store.runs.list(experiment=exp, limit=1)
        steps = store.runs.metrics(runs[0].id) if runs else {}
        return max(steps) if steps else 0

    def train_workers() -> dict[str, str]:
        return {a["actor_id"]: a["node_id"] for a in state(cluster, "actors")
                if a["class_name"] == "RayTrainWorker" and a["state"] == "ALIVE"}

    wait_until(lambda: epochs_done() >= 2, 300, 0.2)
    workers = train_workers()
    assert len(set(workers.values())) == 2  # two workers, two nodes
    # Lose a worker node that holds a Train worker, not the run's driver or controller.
    keep = {a["node_id"] for a in state(cluster, "actors") if a["state"] == "ALIVE"
            and a["class_name"] in ("TrainController", "SynchronizationActor")}
    keep |= {t["node_id"] for t in state(cluster, "tasks")
             if t.get("name") == "fleet:train" and t.get("state") == "RUNNING"}
    alive = nodes(cluster)
    victims = [n for n in set(workers.values())
               if n not in keep and not alive[n]["is_head_node"]]
    assert victims, f"every Train worker sits beside the driver: {workers}, {keep}"
    index = int(alive[victims[0]]["labels"]["fleet.io/node"].split("-")[1])
    at_kill = epochs_done()
    os.killpg(cluster["info"]["worker_pids"][index - 1], signal.SIGKILL)

    done = wait_until(lambda: (x := cluster["http"].get(f"/v1/invocations/{inv_id}").json())
                      ["status"] not in ("queued", "running") and x, 600, 1)
    assert done["status"] == "succeeded", done.get("error_message")
    run = store.runs.list(experiment=exp, limit=1)[0]
    assert sorted(store.runs.metrics(run.id)) == list(range(1, 9))
    starts = sorted(e["detail"]["from_epoch"] for e in store.audit_entries(target=run.id)
                    if e["action"] == "run.start")
    assert starts[0] == 0 and len(starts) >= 2 and starts[1] >= at_kill  # at most one epoch again
    assert len(nodes(cluster)) == 2  # the lost node stays lost: Ray did not hide it
    up = fleet_cli("up", "--workers", "2", env=cluster["env"], timeout=600)  # replaces it
    assert "2 local worker node(s)" in up.stdout
    assert len(nodes(cluster)) == 3


@pytest.mark.slow  # 115-230 s, and 65 s more to stop its Serve apps: make test-slow
@pytest.mark.timeout(600)
def test_a_rollout_whose_replicas_sit_on_two_nodes_fails_no_request(cluster, tmp_path):
    """Two replicas per version (Serve spreads them over nodes), a canary ladder from v1
    to v2 under a bounded load through the router: every request answered."""
    import boto3

    from fleet.cli.demo import make_data

    http, store = cluster["http"], cluster["store"]
    table, _ = make_data(tmp_path, rows=2_000)
    boto3.client("s3", endpoint_url=cluster["s3"], aws_access_key_id=ACCESS_KEY,
                 aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
                 ).upload_file(str(table), BUCKET, "data/small.parquet")
    name = f"mnro-{uuid.uuid4().hex[:6]}"

    def invoke(function: str, payload: dict) -> dict:  # a deploy under load: minutes
        r = http.post(f"/v1/functions/{function}/invoke?wait=300", json=payload,
                      timeout=330)
        assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
        return r.json()["result"]

    invoke("train", {"data": f"s3://{BUCKET}/data/small.parquet",
                     "features": ["age", "income"], "label": "churned", "epochs": 1,
                     "num_workers": 1, "experiment": name})
    v1 = store.models.get(name, 1)
    store.models.register(model=name, artifact_uri=v1.artifact_uri, flavor=v1.flavor,
                          run_id=None, metrics=v1.metrics, params=v1.params,
                          lineage=v1.lineage, actor="test")
    two = {"log_sample_rate": 0, "min_replicas": 2, "max_replicas": 2, "num_cpus": 0.1}
    invoke("deploy", {"model": f"{name}:1", "endpoint": name, "serving": two})
    port = int(cluster["home"].joinpath("fleet.yaml").read_text()
               .split("router_port: ")[1].split("}")[0].split(",")[0])
    url = f"http://127.0.0.1:{port}/endpoints/{name}"
    wait_until(lambda: httpx.post(url, json=ROW, timeout=30).status_code == 200, 60)
    records: list[int] = []
    stop = threading.Event()

    def load() -> None:  # bounded: at most 3,000 requests per thread
        with httpx.Client(timeout=30) as c:
            for _ in range(3000):
                if stop.is_set():
                    return
                try:
                    records.append(c.post(url, json=ROW).status_code)
                except httpx.HTTPError:
                    records.append(0)
                time.sleep(0.01)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        rid = invoke("rollout", {"action": "start", "endpoint": name, "model": f"{name}:2",
                                 "serving": two, "spec": {
                                     "steps": [50, 100], "interval_s": 2, "hold_s": 2,
                                     "drain_s": 1, "thresholds": {"min_requests": 5}}}
                     )["rollout"]["id"]
        placed = wait_until(lambda: (n := {a["node_id"] for a in state(cluster, "actors")
                                          if a["state"] == "ALIVE" and
                                          f"{name}-v2" in (a.get("name") or "")
                                          and "ServeReplica" in a["class_name"]})
                            and len(n) >= 2 and n, 120, 0.5)
        done = wait_until(lambda: (r := store.rollouts.get(rid)).status
                          in ("succeeded", "rolled_back", "failed") and r, 180, 0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert done.status == "succeeded", store.rollouts.events(rid)
    assert len(placed) >= 2  # the candidate's replicas on two nodes
    assert len(records) > 100 and [s for s in records if s != 200] == []


@pytest.mark.slow  # two server starts (70 s): make test-slow
@pytest.mark.timeout(600)  # the module's cluster may start inside it, 85-115 s
def test_fleet_up_address_attaches_a_server_to_a_running_cluster(cluster, tmp_path):
    """What a KubeRay head does: a Fleet server joins a Ray cluster it did not start, and
    `fleet down` there stops only that server."""
    info = cluster["info"]
    os.killpg(info["gateway_pid"], signal.SIGTERM)  # this installation's server goes ...
    wait_until(lambda: cluster_gateway_down(cluster), 60, 0.5)
    home = tmp_path / "attached"
    home.mkdir()
    (home / "fleet.yaml").write_text((cluster["home"] / "fleet.yaml").read_text())
    env = {**cluster["env"], "FLEET_HOME": str(home)}
    up = fleet_cli("up", "--address", info["address"], env=env, timeout=300)
    assert "(attached)" in up.stdout
    assert cluster["http"].get("/healthz").status_code == 200  # ... and a new one serves
    r = cluster["http"].post("/v1/functions/on_worker_two/invoke", json={})
    assert r.status_code == 200 and r.json()["result"]["label"] == "worker-2"
    fleet_cli("down", env=env)
    assert cluster_gateway_down(cluster)
    assert len(nodes(cluster)) == 3  # the cluster it attached to runs on
    fleet_cli("up", env=cluster["env"], timeout=300)  # the module's own server again
    assert cluster["http"].get("/healthz").status_code == 200


def cluster_gateway_down(cluster) -> bool:
    try:
        cluster["http"].get("/healthz", timeout=2)
        return False
    except httpx.HTTPError:
        return True
