"""The whole model lifecycle through real entry points: HTTP with local files, and
`ray job submit` with data, checkpoints, models and outputs on a real S3 server."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from fleet.demo import make_data
from tests.conftest import ROOT
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY

CHECKS = {"required_columns": {"age": "int", "income": "float", "churned": "int"},
          "min_rows": 1000, "label_column": "churned", "min_class_ratio": 0.05}
TRAIN = {"features": ["age", "income"], "label": "churned", "epochs": 3}
GATE = {"min_accuracy": 0.6, "max_latency_ms_per_row": 5.0}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chain")
    good, _ = make_data(folder, rows=20_000)
    holdout, _ = make_data(folder / "holdout", rows=5_000, seed=11)
    return good, holdout


def test_chain_over_http_on_local_files(http, tables, tmp_path):
    good, holdout = tables
    name = f"http-{uuid.uuid4().hex[:6]}"

    def call(fn, body):
        r = http.post(f"/v1/functions/{fn}/invoke?wait=300", json=body)
        assert r.status_code == 200 and r.json()["status"] == "succeeded", r.json()
        return r.json()["result"]

    assert call("validate_data", {"path": str(good), **CHECKS})["passed"]
    trained = call("train", {"data": str(good), "experiment": name, **TRAIN})
    assert trained["version"] == 1 and trained["artifact_uri"].startswith("file://")
    ev = call("evaluate", {"model": f"{name}:1", "data": str(holdout),
                           "sensitive_column": "plan", "thresholds": GATE})
    assert ev["passed"] and set(ev["groups"]) == {"basic", "pro", "team"}
    r = http.put(f"/v1/models/{name}/aliases/champion",
                 json={"version": 1, "reason": f"gate passed: accuracy "
                                                f"{ev['metrics']['accuracy']:.3f}"})
    assert r.status_code == 200 and r.json()["aliases"] == {"champion": 1}
    out = tmp_path / "scored"
    inferred = call("batch_infer", {"model": f"{name}@champion", "input": str(good),
                                    "output": str(out)})
    assert inferred["rows"] == 20_000 and inferred["rows_per_s"] > 0
    scored = pq.read_table(out)
    assert {"prediction", "probability"} <= set(scored.column_names)
    model = http.get(f"/v1/models/{name}").json()
    assert model["versions"][0]["evaluation"]["passed"] is True


def test_chain_through_ray_job_submit_on_s3(client, s3_server, tables):
    good, holdout = tables
    bucket = f"chain-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(good), bucket, "data/train.parquet")
    s3.upload_file(str(holdout), bucket, "data/holdout.parquet")
    name = f"job-{uuid.uuid4().hex[:6]}"
    info = json.loads((Path(os.environ["FLEET_HOME"]) / "run" / "cluster.json").read_text())
    env = {**os.environ, "RAY_API_SERVER_ADDRESS": info["dashboard_url"],
           "RAY_AUTH_MODE": "token"}
    ray_bin = str(Path(sys.executable).parent / "ray")

    def job(fn, *args):
        sub = subprocess.run([ray_bin, "job", "submit", "--working-dir", ".", "--", "python",
                              "-m", "fleet.jobs", fn, *args], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        assert sub.returncode == 0, sub.stdout[-3000:] + sub.stderr[-2000:]
        runs = client.list(function=fn, via="job", limit=20)
        inv = next(i for i in runs if i.ray_job_id and i.ray_job_id in sub.stdout + sub.stderr)
        assert inv.status.value == "succeeded", inv.error_message
        return inv.result

    data = f"s3://{bucket}/data/train.parquet"
    assert job("validate_data", f"path={data}", "min_rows=1000")["passed"]
    trained = job("train", f"data={data}", 'features=["age","income"]', "label=churned",
                  "epochs=2", f"experiment={name}", f"artifact_root=s3://{bucket}/fleet")
    assert trained["artifact_uri"] == f"s3://{bucket}/fleet/models/{name}/" \
                                      f"{trained['run_id']}/model.pt"
    checkpoints = s3.list_objects_v2(Bucket=bucket, Prefix=f"fleet/runs/{trained['run_id']}/"
                                                          "checkpoints/")
    assert len(checkpoints.get("Contents", [])) == 2  # one per epoch
    ev = job("evaluate", f"model={name}:{trained['version']}",
             f"data=s3://{bucket}/data/holdout.parquet",
             'thresholds={"min_accuracy": 0.6}')
    assert ev["passed"]
    client.store.models.move_alias(model=name, alias="champion", version=trained["version"],
                                   actor="test", reason="gate passed")
    out = job("batch_infer", f"model={name}@champion", f"input={data}",
              f"output=s3://{bucket}/scored")
    assert out["rows"] == 20_000
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="scored/")["Contents"]
            if not o["Key"].endswith("/")]  # pyarrow leaves a directory marker
    assert keys and all(k.endswith(".parquet") for k in keys)
