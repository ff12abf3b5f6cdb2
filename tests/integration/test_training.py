"""Training on a real Ray Train cluster: crash recovery, resume, and clean failures."""

import os
import signal
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from fleet.cli.demo import make_data
from tests.integration.conftest import MISSING_BUCKET, wait_until


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    good, _ = make_data(tmp_path_factory.mktemp("data"), rows=300_000)
    return str(good)


def train_payload(table, experiment, **kw):
    return {"data": table, "features": ["age", "income"], "label": "churned",
            "experiment": experiment, "epochs": 8, "num_workers": 2, **kw}


def run_of(client, experiment):
    runs = client.store.runs.list(experiment=experiment, limit=1)
    return runs[0] if runs else None


def epochs_done(client, experiment) -> int:
    run = run_of(client, experiment)
    steps = client.store.runs.metrics(run.id) if run else {}
    return max(steps) if steps else 0


def starts(client, run_id):
    return sorted(e["detail"]["from_epoch"] for e in client.store.audit_entries(target=run_id)
                   if e["action"] == "run.start")


@pytest.mark.slow
def test_a_killed_worker_resumes_from_the_last_checkpoint(client, table):
    from ray.util.state import list_actors

    exp = f"kill-{uuid.uuid4().hex[:6]}"
    inv = client.invoke("train", train_payload(table, exp), wait=False)
    wait_until(lambda: epochs_done(client, exp) >= 2, 180, 0.1)
    workers = list_actors(filters=[("class_name", "=", "RayTrainWorker"),
                                   ("state", "=", "ALIVE")])
    at_kill = epochs_done(client, exp)
    os.kill(workers[0].pid, signal.SIGKILL)
    done = client.wait(inv.id, 600)
    assert done.status.value == "succeeded", done.error_message
    run = run_of(client, exp)
    assert sorted(client.store.runs.metrics(run.id)) == list(range(1, 9))
    first, restart = starts(client, run.id)
    assert first == 0 and restart >= at_kill  # at most the running epoch is repeated
    versions = [v for v in client.store.models.versions(exp) if v.run_id == run.id]
    assert len(versions) == 1 and done.result["version"] == versions[0].version


@pytest.mark.slow
def test_a_killed_driver_runs_again_and_resumes_its_own_run(client, table):
    """The `train` task itself dies (its node lost): the invocation still succeeds, in one
    run that went on from its checkpoint, not in a second run from epoch 0."""
    from ray.util.state import list_tasks

    exp = f"driver-{uuid.uuid4().hex[:6]}"
    inv = client.invoke("train", train_payload(table, exp), wait=False)
    wait_until(lambda: epochs_done(client, exp) >= 2, 180, 0.1)
    drivers = list_tasks(filters=[("name", "=", "fleet:train"), ("state", "=", "RUNNING")])
    assert len(drivers) == 1, drivers
    at_kill = epochs_done(client, exp)
    os.kill(drivers[0].worker_pid, signal.SIGKILL)
    done = client.wait(inv.id, 600)
    assert done.status.value == "succeeded", done.error_message
    assert done.attempts == 2
    runs = client.store.runs.list(experiment=exp)
    assert [r.id for r in runs] == [done.result["run_id"]]
    assert done.result["resumed_from_epoch"] >= at_kill - 1
    first, restart = starts(client, runs[0].id)
    assert first == 0 and restart >= at_kill - 1  # at most the running epoch is repeated
    assert sorted(client.store.runs.metrics(runs[0].id)) == list(range(1, 9))
    assert len(client.store.models.versions(exp)) == 1


@pytest.mark.slow
def test_a_stopped_run_resumes_by_run_id(client, table):
    exp = f"resume-{uuid.uuid4().hex[:6]}"
    inv = client.invoke("train", train_payload(table, exp), wait=False)
    wait_until(lambda: epochs_done(client, exp) >= 3, 180, 0.1)
    client.cancel(inv.id, caller="test")
    stopped_at = epochs_done(client, exp)
    run = run_of(client, exp)
    again = client.invoke("train", {"run_id": run.id})
    assert again.status.value == "succeeded", again.error_message
    assert again.result["run_id"] == run.id and again.result["resumed_from_epoch"] >= 3
    assert starts(client, run.id)[-1] >= stopped_at - 1  # did not start over
    assert sorted(client.store.runs.metrics(run.id)) == list(range(1, 9))
    assert len(client.store.models.versions(exp)) == 1


@pytest.mark.slow
def test_the_registered_model_predicts_like_the_final_checkpoint(client, table):
    from fleet.artifacts import ArtifactStore
    from fleet.flavors.torch import LoadedModel, load_bundle

    exp = f"same-{uuid.uuid4().hex[:6]}"
    inv = client.invoke("train", train_payload(table, exp, epochs=2))
    assert inv.status.value == "succeeded", inv.error_message
    version = client.store.models.resolve(exp)
    run = client.store.runs.get(version.run_id)
    store = ArtifactStore(client.settings)
    with tempfile.TemporaryDirectory() as d:
        registered = LoadedModel(load_bundle(store.get_file(version.artifact_uri,
                                                            Path(d) / "m.pt")))
        final = LoadedModel(load_bundle(store.get_file(run.checkpoint_uri,
                                                       Path(d) / "c.pt")))
    x = np.random.default_rng(1).normal(50, 20, size=(256, 2)).astype(np.float32)
    x[:, 1] = np.abs(x[:, 1]) * 1000
    np.testing.assert_array_equal(registered.predict_raw(x), final.predict_raw(x))
    assert set(registered.predict(x)["prediction"]) <= {0, 1}


@pytest.mark.slow
def test_batch_infer_shows_its_progress_in_the_record_while_it_runs(client, table, tmp_path):
    exp = f"prog-{uuid.uuid4().hex[:6]}"
    trained = client.invoke("train", train_payload(table, exp, epochs=1, num_workers=1))
    assert trained.status.value == "succeeded", trained.error_message
    inv = client.invoke("batch_infer", {"model": exp, "input": table, "batch_size": 2048,
                                        "output": str(tmp_path / "scored"),
                                        "executor": "ray_data"}, wait=False)
    seen = []

    def ended():
        rec = client.get(inv.id)
        if rec.progress and rec.status.value == "running":
            seen.append(rec.progress)
        return rec.done and rec

    done = wait_until(ended, 300, every_s=0.1)
    assert done.status.value == "succeeded", done.error_message
    assert seen, "no progress was visible while it ran"
    assert all(p["rows_total"] == 300_000 and 0 <= p["rows_done"] <= 300_000 for p in seen)
    assert done.progress["rows_done"] == 300_000 and done.progress["percent"] == 100.0
    assert done.progress["rows_per_s"] > 0 and done.result["rows"] == 300_000

    # auto picks the local executor on this one-node cluster: the same predictions
    local = client.invoke("batch_infer", {"model": exp, "input": table, "batch_size": 2048,
                                          "output": str(tmp_path / "scored-local")})
    assert local.status.value == "succeeded", local.error_message
    assert local.result["executor"] == "local" and local.result["rows"] == 300_000
    assert local.progress["rows_done"] == 300_000 and local.progress["percent"] == 100.0
    a, b = (pq.read_table(tmp_path / d).to_pandas() for d in ("scored", "scored-local"))
    cols = list(a.columns)
    assert sorted(cols) == sorted(b.columns) and {"prediction", "probability"} <= set(cols)
    keys = [c for c in cols if c != "probability"]  # a float: equal up to BLAS's batching
    a, b = (t[cols].sort_values(keys).reset_index(drop=True) for t in (a, b))
    assert a[keys].equals(b[keys])
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=1e-5)


@pytest.mark.parametrize("change, message", [
    ({"features": ["age", "salary"]}, "['salary'] not in the data"),
    ({"label": "income", "task": "classification"}, "fractional values"),
    ({"label": "plan", "task": "regression"}, "must be numeric for regression"),
    ({"data": "EMPTY"}, "is empty"),
])
def test_bad_data_fails_clearly_and_registers_nothing(client, table, tmp_path, change,
                                                      message):
    if change.get("data") == "EMPTY":
        (tmp_path / "empty.csv").write_text("")
        change = {"data": str(tmp_path / "empty.csv")}
    exp = f"bad-{uuid.uuid4().hex[:6]}"
    inv = client.invoke("train", train_payload(table, exp, epochs=1, **change))
    assert inv.status.value == "failed" and message in inv.error_message
    assert client.store.models.versions(exp) == []
    assert client.store.models.aliases(exp) == {}


@pytest.fixture(scope="module")
def small_table(tmp_path_factory):
    good, _ = make_data(tmp_path_factory.mktemp("small"), rows=5_000)
    return str(good)


@pytest.mark.slow
def test_same_seed_same_model_and_a_user_model_by_dotted_path(client, small_table):
    results = []
    for _ in range(2):
        inv = client.invoke("train", train_payload(
            small_table, f"seed-{uuid.uuid4().hex[:6]}", epochs=2, num_workers=1, seed=7,
            model="fleet_testfuncs.tiny_linear"))
        assert inv.status.value == "succeeded", inv.error_message
        results.append(inv.result["metrics"])
    assert results[0] == results[1]


@pytest.mark.parametrize("where", ["data", "artifact_root"])
def test_a_missing_bucket_fails_clearly_and_registers_nothing(client, small_table, where):
    exp = f"nobucket-{uuid.uuid4().hex[:6]}"
    payload = train_payload(small_table, exp, epochs=1)
    if where == "data":
        payload["data"] = f"s3://{MISSING_BUCKET}/data/train.parquet"
    else:
        payload["artifact_root"] = f"s3://{MISSING_BUCKET}/fleet"
    inv = client.invoke("train", payload)
    assert inv.status.value == "failed"
    assert MISSING_BUCKET in inv.error_message, inv.error_message
    assert client.store.models.versions(exp) == []
