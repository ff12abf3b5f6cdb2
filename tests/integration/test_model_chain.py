"""The whole model lifecycle through real entry points, HTTP and `ray job submit`, each with
data, checkpoints, models and outputs on a real S3 server and again on local files."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from fleet.cli.demo import make_data
from tests.conftest import ROOT
from tests.integration.conftest import DATA_BUCKET

CHECKS = {"required_columns": {"age": "int", "income": "float", "churned": "int"},
          "min_rows": 1000, "label_column": "churned", "min_class_ratio": 0.05}
GATE = {"min_accuracy": 0.6, "max_latency_ms_per_row": 5.0}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chain")
    good, _ = make_data(folder, rows=20_000)
    holdout, _ = make_data(folder / "holdout", rows=5_000, seed=11)
    return good, holdout


@pytest.fixture(params=[pytest.param("s3", marks=pytest.mark.slow), "local"])
def place(request, tables, tmp_path):
    """Where data, checkpoints, models and outputs live for one chain. The S3 chains run in
    the slow suite (about a minute each): `make test` keeps the local one under its limit."""
    good, holdout = tables
    if request.param == "local":
        return {"kind": "local", "data": str(good), "holdout": str(holdout),
                "root": (tmp_path / "artifacts").as_uri(), "out": str(tmp_path / "scored"),
                "list_out": lambda: [p.name for p in (tmp_path / "scored").glob("*")]}
    s3 = request.getfixturevalue("data_bucket")
    bucket, prefix = DATA_BUCKET, f"chain-{uuid.uuid4().hex[:8]}"  # inside the data root
    s3.upload_file(str(good), bucket, f"{prefix}/data/train.parquet")
    s3.upload_file(str(holdout), bucket, f"{prefix}/data/holdout.parquet")

    def list_out():  # pyarrow leaves a directory marker object: skip it
        objs = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/scored/").get("Contents", [])
        return [o["Key"] for o in objs if not o["Key"].endswith("/")]

    base = f"s3://{bucket}/{prefix}"
    return {"kind": "s3", "data": f"{base}/data/train.parquet",
            "holdout": f"{base}/data/holdout.parquet", "root": f"{base}/fleet",
            "out": f"{base}/scored", "list_out": list_out}


def run_chain(call, move_alias, place, name):
    """validate_data -> train -> evaluate -> register (champion) -> batch_infer."""
    assert call("validate_data", {"path": place["data"], **CHECKS})["passed"]
    trained = call("train", {"data": place["data"], "features": ["age", "income"],
                             "label": "churned", "epochs": 2, "experiment": name,
                             "artifact_root": place["root"]})
    assert trained["artifact_uri"].startswith(place["root"])
    ev = call("evaluate", {"model": f"{name}:{trained['version']}", "data": place["holdout"],
                           "sensitive_column": "plan", "thresholds": GATE})
    assert ev["passed"] and set(ev["groups"]) == {"basic", "pro", "team"}
    move_alias(name, trained["version"], f"gate passed: accuracy {ev['metrics']['accuracy']:.3f}")
    out = call("batch_infer", {"model": f"{name}@champion", "input": place["data"],
                               "output": place["out"]})
    assert out["rows"] == 20_000 and out["rows_per_s"] > 0
    files = place["list_out"]()
    assert files and all(f.endswith(".parquet") for f in files)
    return trained


def test_chain_over_http(http, client, place):
    name = f"http-{place['kind']}-{uuid.uuid4().hex[:6]}"

    def call(fn, body):
        r = http.post(f"/v1/functions/{fn}/invoke?wait=300", json=body)
        assert r.status_code == 200 and r.json()["status"] == "succeeded", r.json()
        return r.json()["result"]

    def move_alias(model, version, reason):
        r = http.put(f"/v1/models/{model}/aliases/champion",
                     json={"version": version, "reason": reason})
        assert r.status_code == 200 and r.json()["aliases"] == {"champion": version}

    trained = run_chain(call, move_alias, place, name)
    model = http.get(f"/v1/models/{name}").json()
    assert model["versions"][0]["evaluation"]["passed"] is True
    run = client.store.runs.get(trained["run_id"])
    assert len(client.store.runs.metrics(run.id)) == 2
    from fleet.artifacts import ArtifactStore

    checkpoints = ArtifactStore(client.settings).list(
        run.checkpoint_uri.rsplit("/", 1)[0])  # a checkpoint per epoch, on the chosen storage
    assert checkpoints == ["epoch-1.pt", "epoch-2.pt"] and run.checkpoint_uri.endswith(
        "epoch-2.pt") and run.checkpoint_uri.startswith(place["root"])


@pytest.mark.slow
def test_chain_through_ray_job_submit(client, place):
    info = json.loads((Path(os.environ["FLEET_HOME"]) / "run" / "cluster.json").read_text())
    env = {**os.environ, "RAY_API_SERVER_ADDRESS": info["dashboard_url"],
           "RAY_AUTH_MODE": "token"}
    ray_bin = str(Path(sys.executable).parent / "ray")

    def call(fn, body):
        args = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in body.items()]
        sub = subprocess.run([ray_bin, "job", "submit", "--working-dir", ".", "--", "python",
                              "-m", "fleet.jobs", fn, *args], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        assert sub.returncode == 0, sub.stdout[-3000:] + sub.stderr[-2000:]
        inv = next(i for i in client.list(function=fn, via="job", limit=20)
                   if i.ray_job_id and i.ray_job_id in sub.stdout + sub.stderr)
        assert inv.status.value == "succeeded", inv.error_message
        return inv.result

    def move_alias(model, version, reason):
        client.store.models.move_alias(model=model, alias="champion", version=version,
                                       actor="test", reason=reason)

    run_chain(call, move_alias, place, f"job-{place['kind']}-{uuid.uuid4().hex[:6]}")
