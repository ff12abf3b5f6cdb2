"""One real Fleet for the whole integration session, started by the real `fleet up`.

It uses free ports, a FLEET_HOME under .tmp/, a short Ray temp base of its own outside the
checkout (RAY_TMPDIR, fleet.ray_paths.short_dir), token auth as in production,
and the test functions in tests/fixtures registered through function_modules/paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import RAY_TMPDIR, ROOT, TMP
from tests.support.postgres import free_port
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY

ADMIN = "it-admin-token-0123456789"
READER = "it-reader-token-0123456789"
APPROVER = "it-approver-token-0123456789"  # a second person, with the approver role
DEPLOYER = "it-deployer-token-0123456789"  # invoke scope; deploys and writes KBs (roles)
CAT = "it-cat-token-0123456789abc"  # a third person, also an approver
BOT = "it-slack-bot-token-0123456789"  # a trusted client that acts on behalf of people
FLEET = str(Path(sys.executable).parent / "fleet")
DATA_BUCKET = "fleet-it-data"  # a data root: tests put their S3 data under prefixes of it
MISSING_BUCKET = "fleet-it-missing"  # a data root whose bucket nobody created


def fleet_cli(*args: str, check: bool = True, timeout: float = 300,
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([FLEET, *args], capture_output=True, text=True, timeout=timeout,
                          check=check, cwd=ROOT, env=env or os.environ.copy())


@pytest.fixture(scope="session")
def serving_ports():
    return {"serve": free_port(), "router": free_port(), "gateway": free_port()}


@pytest.fixture(scope="session")
def prometheus(serving_ports):
    """A real Prometheus scraping the router and the gateway every second, with the
    rules of cluster/prometheus (started before Fleet, so the controller knows its URL)."""
    from tests.support.prometheus import PrometheusServer

    server = PrometheusServer(TMP / f"prom-{os.getpid()}", {
        "fleet-router": [f"127.0.0.1:{serving_ports['router']}"],
        "fleet-gateway": [f"127.0.0.1:{serving_ports['gateway']}"]},
        rules=[ROOT / "cluster" / "prometheus" / "rules" / "fleet.rules.yml"])
    if server.binary is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is missing; make test installs it as root "
                        "(apt-get install prometheus)")
        yield None
        return
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def fleet_home(s3_server, serving_ports, prometheus, tmp_path_factory):
    home = TMP / f"it-{os.getpid()}"
    home.mkdir(parents=True, exist_ok=True)
    ports = [None, free_port(), free_port()]  # the gateway's is serving_ports['gateway']
    prom = f", prometheus_url: '{prometheus}'" if prometheus else ""
    (home / "fleet.yaml").write_text(f"""
function_modules: [functions, fleet_testfuncs]
function_paths: [{ROOT / 'tests' / 'fixtures'}]
tokens:
  - {{name: admin, token: {ADMIN}, scopes: [admin]}}
  - {{name: reader, token: {READER}, scopes: [read]}}
  - {{name: bob, token: {APPROVER}, scopes: [invoke], roles: [approver]}}
  - {{name: dee, token: {DEPLOYER}, scopes: [invoke], roles: [deployer, kb-writer]}}
  - {{name: cat, token: {CAT}, scopes: [invoke], roles: [approver]}}
  - {{name: slack-bot, token: {BOT}, scopes: [read, invoke, act_as, notify]}}
approvals: {{protected_aliases: [prod]}}
gateway: {{port: {serving_ports['gateway']}, max_body_bytes: 65536}}
serving: {{serve_port: {serving_ports['serve']}, router_port: {serving_ports['router']},
           refresh_s: 0.2, request_timeout_s: 8{prom},
           endpoint_tokens: {{rag: [admin, reader], 'models/*': [admin]}},
           apps: [{{name: echo, import_path: 'fleet_serve_echo:build', route_prefix: /echo,
                    args: {{greeting: hi}}}},
                  {{name: broken, import_path: 'fleet_serve_echo:missing'}},
                  {{name: llm, import_path: 'serve_apps.llm:build', route_prefix: /llm,
                    args: {{max_replicas: 1}}}},
                  {{name: rag, import_path: 'serve_apps.rag:build', route_prefix: /rag,
                    args: {{max_replicas: 1}}}}]}}
scheduler: {{tick_s: 0.5, max_catchup: 5}}
drift: {{endpoints: {{drifty: {{drift_share: 0.3}}}}}}
llm: {{cache_dir: '{TMP / "models"}'}}
outbox: {{base_backoff_s: 0.5, max_backoff_s: 3, max_attempts: 100}}
cluster: {{num_cpus: 2, gcs_port: {ports[1]}, dashboard_port: {ports[2]}}}
data_roots: ['{tmp_path_factory.getbasetemp()}', 's3://{DATA_BUCKET}', 's3://{MISSING_BUCKET}']
artifacts:
  s3_endpoint_url: {s3_server}
  s3_access_key_id: {ACCESS_KEY}
  s3_secret_access_key: {SECRET_KEY}
""")
    os.environ["FLEET_HOME"] = str(home)
    os.environ.setdefault("RAY_TMPDIR", RAY_TMPDIR)
    Path(os.environ["RAY_TMPDIR"]).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    up = fleet_cli("up", check=False, timeout=600)
    if up.returncode != 0:
        logs = "\n".join(p.read_text()[-3000:] for p in (home / "logs").glob("*.log"))
        pytest.fail(f"fleet up failed: {up.stdout}\n{up.stderr}\n{logs}")
    print(f"fleet up took {time.monotonic() - started:.1f}s")
    yield home
    fleet_cli("down", check=False)


@pytest.fixture(scope="session")
def data_bucket(s3_server):
    """An S3 client, with the data-root bucket made: tests put their data under prefixes."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    if DATA_BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=DATA_BUCKET)
    return s3


@pytest.fixture(scope="session")
def client(fleet_home):
    from fleet import config
    from fleet.cluster import connect
    from fleet.runtime import Client

    config.clear_cache()
    settings = config.load_settings(fleet_home)
    connect(settings)  # this test process talks to its own installation's Ray, not "auto"
    return Client(settings)


@pytest.fixture(scope="session")
def gateway_url(client):
    from fleet.cluster import ClusterInfo

    return ClusterInfo.read(client.settings).gateway_url


@pytest.fixture(scope="session")
def http(gateway_url):
    with httpx.Client(base_url=gateway_url, timeout=120,
                      headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        yield c


def wait_until(cond, timeout_s: float = 60, every_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


def train_small(client, folder: Path, name: str, rows: int = 2_000) -> None:
    """Version 1 of model `name`: one epoch on the demo's churn data, one Ray Train worker."""
    from fleet.cli.demo import make_data

    table, _ = make_data(folder, rows=rows)
    inv = client.invoke("train", {"data": str(table), "features": ["age", "income"],
                                  "label": "churned", "epochs": 1, "num_workers": 1,
                                  "experiment": name})
    assert inv.status.value == "succeeded", inv.error_message
