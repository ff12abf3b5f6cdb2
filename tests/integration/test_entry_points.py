"""The same function through every entry point gives the same record shape, with the right
entry point recorded."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.integration.conftest import DEPLOYER, fleet_cli, wait_until

MARK_CPUS = 0.1  # @function(cpus=0.1) in tests/fixtures/fleet_testfuncs.py
RECORD_KEYS = {"id", "function", "status", "via", "caller", "idempotency_key", "ray_job_id",
               "attempts", "created_at", "started_at", "finished_at", "duration_s", "progress",
               "usage", "input", "result", "error"}


def check(rec: dict, via: str, tag: str, caller: str | None = None) -> None:
    assert set(rec) == RECORD_KEYS
    assert rec["function"] == "mark" and rec["via"] == via
    assert rec["status"] == "succeeded", rec
    assert rec["input"]["tag"] == tag and rec["result"]["runs"] >= 1
    assert rec["attempts"] == 1 and rec["duration_s"] > 0
    # what it cost: the function's declared CPUs for as long as it ran
    assert rec["usage"]["cpus"] == MARK_CPUS
    assert abs(rec["usage"]["cpu_s"] - MARK_CPUS * rec["duration_s"]) < 1e-5
    if caller:
        assert rec["caller"] == caller


def test_python_http_cli_job_and_schedule_share_one_record_shape(client, http, tmp_path):
    out = tmp_path / "marks.txt"
    path = str(out)

    check(client.invoke("mark", {"path": path, "tag": "python"}).public(), "python", "python")

    r = http.post("/v1/functions/mark/invoke", json={"path": path, "tag": "http"})
    assert r.status_code == 200
    check(r.json(), "http", "http", caller="admin")

    r = http.post("/v1/functions/mark/spawn", json={"path": path, "tag": "async"})
    assert r.status_code == 202 and r.headers["location"] == f"/v1/invocations/{r.json()['id']}"
    done = wait_until(lambda: (x := http.get(r.headers["location"]).json())["status"]
                      == "succeeded" and x)
    check(done, "http", "async")

    cli = fleet_cli("invoke", "mark", f"path={path}", "tag=cli", "--json")
    check(json.loads(cli.stdout), "cli", "cli", caller="local-admin")  # no token: local admin

    cli_job = fleet_cli("invoke", "mark", f"path={path}", "tag=clijob", "--via", "job",
                        "--json", env={**os.environ, "FLEET_TOKEN": DEPLOYER})
    rec = json.loads(cli_job.stdout)
    check(rec, "job", "clijob", caller="dee")  # the job acts as whoever submitted it
    assert rec["ray_job_id"].startswith("raysubmit_")
    assert not [t for t in client.store.tokens.list(kind="job") if t.name == "dee"]

    # plain `ray job submit --working-dir .`, the way a Ray user would
    info = json.loads((Path(os.environ["FLEET_HOME"]) / "run" / "cluster.json").read_text())
    env = {**os.environ, "RAY_API_SERVER_ADDRESS": info["dashboard_url"],
           "RAY_AUTH_MODE": "token"}
    ray_bin = str(Path(sys.executable).parent / "ray")
    claim = json.dumps({"env_vars": {"FLEET_CALLER": "admin"}})  # a claim, not an identity
    sub = subprocess.run([ray_bin, "job", "submit", "--working-dir", ".", "--runtime-env-json",
                          claim, "--", "python", "-m", "fleet.jobs", "mark", f"path={path}",
                          "tag=rayjob"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert sub.returncode == 0, sub.stdout[-2000:] + sub.stderr[-2000:]
    jobs = [i.public() for i in client.list(function="mark", via="job", limit=10)
            if i.payload["tag"] == "rayjob"]
    assert len(jobs) == 1
    check(jobs[0], "job", "rayjob", caller="ray-job")
    assert jobs[0]["ray_job_id"] in sub.stdout + sub.stderr

    client.store.schedules.add(name="entry-points", function="mark", spec="@every 1s",
                               payload={"path": path, "tag": "schedule"}, actor="test")
    try:
        sched = wait_until(lambda: [i for i in client.list(function="mark", via="schedule")
                                    if i.status.value == "succeeded"], timeout_s=30)
    finally:
        client.store.schedules.remove("entry-points", actor="test")
    check(sched[0].public(), "schedule", "schedule", caller="schedule:entry-points")
    assert sched[0].idempotency_key.startswith("schedule:entry-points:")


def test_cli_failures_exit_non_zero_with_the_same_messages(tmp_path):
    r = fleet_cli("invoke", "nope", check=False)
    assert r.returncode == 3 and "No function named 'nope'" in r.stderr
    r = fleet_cli("invoke", "mark", "tag=x", check=False)
    assert r.returncode == 2 and "path" in r.stderr and "required" in r.stderr.lower()
    r = fleet_cli("invoke", "boom", check=False)
    assert r.returncode == 1 and "the input table has no rows" in r.stdout


def test_no_long_lived_token_reaches_ray(client, tmp_path):
    """Issue 26, finding 4: a job submitted with the admin token carried it in its
    environment, where Ray's job API (`env_vars`) and its world-readable
    runtime_env_agent.log showed it. A job now carries a token minted for it, revoked when
    it ends: none of the installation's own tokens is in Ray's job API or logs."""
    from ray.job_submission import JobSubmissionClient

    from tests.integration.conftest import ADMIN, APPROVER, BOT, CAT, READER

    cli_job = fleet_cli("invoke", "mark", f"path={tmp_path / 'm.txt'}", "tag=secret",
                        "--via", "job", "--json", env={**os.environ, "FLEET_TOKEN": ADMIN})
    assert json.loads(cli_job.stdout)["status"] == "succeeded"
    info = json.loads((Path(os.environ["FLEET_HOME"]) / "run" / "cluster.json").read_text())
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    seen = [str(j) for j in JobSubmissionClient(info["dashboard_url"]).list_jobs()]
    logs = Path(info["ray_temp_dir"]) / "session_latest" / "logs"
    seen += [p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file()]
    assert len(seen) > 10  # the jobs and the logs were read
    for token in (ADMIN, READER, APPROVER, DEPLOYER, CAT, BOT):
        assert not [text for text in seen if token in text], "a Fleet token is in Ray"
    assert not [t for t in client.store.tokens.list(kind="job") if t.name == "admin"]
