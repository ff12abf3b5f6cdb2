"""Two installations (two FLEET_HOMEs) on one machine, both up at once, each taking Ray jobs.

This is `make demo` left running and then `make test`: before every port was configured or
chosen free, the second Ray head lost its dashboard agent to the first, and every job
submission answered "No available agent to submit job". The second one lives at a long
path with a space in it, as a user's checkout may be: nothing of Ray's may follow it there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TMP
from tests.integration.conftest import ADMIN, fleet_cli
from tests.support.postgres import free_port

RAY = str(Path(sys.executable).parent / "ray")


def _second_home() -> Path:
    """At a path of over 100 characters with a space in it."""
    base = TMP / f"it2 {os.getpid()}"
    home = base / ("h" * max(1, 101 - len(str(base))))
    home.mkdir(parents=True, exist_ok=True)
    (home / "fleet.yaml").write_text(f"""
function_modules: [functions, fleet_testfuncs]
function_paths: [{ROOT / 'tests' / 'fixtures'}]
tokens:
  - {{name: admin2, token: {ADMIN}-two, scopes: [admin]}}
gateway: {{port: {free_port()}}}
serving: {{serve_port: {free_port()}, router_port: {free_port()}, apps: []}}
cluster: {{num_cpus: 1, gcs_port: {free_port()}, dashboard_port: {free_port()}}}
""")
    return home


def _ray_job(info: dict, env: dict, path: Path, tag: str) -> str:
    env = {**env, "RAY_API_SERVER_ADDRESS": info["dashboard_url"], "RAY_AUTH_MODE": "token"}
    sub = subprocess.run([RAY, "job", "submit", "--", "python", "-m", "fleet.jobs", "mark",
                          f"path={path}", f"tag={tag}"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert sub.returncode == 0, sub.stdout[-2000:] + sub.stderr[-2000:]
    return sub.stdout


@pytest.mark.slow
def test_two_installations_run_side_by_side_with_job_submission(fleet_home, client, tmp_path):
    home2 = _second_home()
    env2 = {**os.environ, "FLEET_HOME": str(home2)}
    up = fleet_cli("up", check=False, env=env2)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        info1 = json.loads((fleet_home / "run" / "cluster.json").read_text())
        info2 = json.loads((home2 / "run" / "cluster.json").read_text())
        # every port each opened is recorded, and none is shared
        for info in (info1, info2):
            assert {"node-manager-port", "object-manager-port", "metrics-export-port",
                    "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
                    "runtime-env-agent-port", "min-worker-port", "max-worker-port",
                    "gateway", "router"} <= set(info["ports"])
        singles = lambda i: {v for k, v in i["ports"].items() if "worker-port" not in k}  # noqa: E731
        assert not singles(info1) & singles(info2)
        r1 = range(info1["ports"]["min-worker-port"], info1["ports"]["max-worker-port"] + 1)
        r2 = range(info2["ports"]["min-worker-port"], info2["ports"]["max-worker-port"] + 1)
        assert not set(r1) & set(r2)

        marks = tmp_path / "marks.txt"
        out1 = _ray_job(info1, dict(os.environ), marks, "one")
        out2 = _ray_job(info2, env2, marks, "two")
        assert '"status": "succeeded"' in out1 and '"status": "succeeded"' in out2
        # each job landed in its own installation's store, nowhere else
        tags1 = {i.payload["tag"] for i in client.list(function="mark", via="job", limit=50)}
        assert "one" in tags1 and "two" not in tags1
        cli2 = fleet_cli("invocations", "--json", check=False, env=env2)
        assert cli2.returncode == 0, cli2.stderr
        assert '"two"' in cli2.stdout and '"one"' not in cli2.stdout
        # and `fleet invoke --via job` (Fleet's own submission, with retries) on the second
        job2 = fleet_cli("invoke", "mark", f"path={marks}", "tag=two-cli", "--via", "job",
                         "--json", env=env2)
        assert json.loads(job2.stdout)["status"] == "succeeded"
    finally:
        fleet_cli("down", check=False, env=env2)
