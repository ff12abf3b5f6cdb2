"""Drift monitoring end to end on the real installation: a model trained by `train`, an
endpoint routed to it, and predictions logged by the serving path's own writer
(fleet.serving.predlog) with one feature shifted. A drift check scheduled with
`fleet drift watch` that was due while Fleet was "down" runs once; its alert reaches Slack
(the bot console: the real bolt app and notifier against the local Slack stand-in) once,
with its plot uploaded through files.getUploadURLExternal + files.completeUploadExternal;
Retrain goes through an approval and trains a new version as the person who asked."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pytest

from fleet.names import scoped_key
from fleet.telemetry import CACHE_S
from tests.integration.conftest import READER, fleet_cli, train_small, wait_until

MODEL, ENDPOINT = "driftm", "drifty"
HOUR = 3600.0


def _model(client, artifacts):
    """Version 1 as the replicas load it."""
    import tempfile
    from pathlib import Path

    from fleet.flavors.torch import LoadedModel, load_bundle

    version = client.store.models.get(MODEL, 1)
    with tempfile.TemporaryDirectory() as d:
        path = artifacts.get_file(version.artifact_uri, Path(d) / "model.pt")
        return LoadedModel(load_bundle(path), settings=client.settings)


def _log_predictions(client, data_path, shift_income: float, rows: int = 1500) -> None:
    """What the endpoint's replicas would have logged: the model's real predictions on
    rows drawn from the training table, with income moved by `shift_income`."""
    from fleet.artifacts import ArtifactStore
    from fleet.serving.predlog import PredictionLog

    settings = client.settings
    artifacts = ArtifactStore(settings)
    model = _model(client, artifacts)
    table = pd.read_parquet(data_path).sample(rows, random_state=3)
    table["income"] = table["income"] + shift_income
    x = table[model.features].to_numpy(np.float32)
    out = model.predict(x)
    log = PredictionLog(artifacts, root=settings.artifact_root, model=MODEL, version=1,
                        sample_rate=1.0, flush_rows=10_000, flush_s=3600)
    instances = [{"age": int(a), "income": float(i)}
                 for a, i in zip(table["age"], table["income"], strict=True)]
    preds = [{"prediction": p.item() if hasattr(p, "item") else p, "probability": float(q)}
             for p, q in zip(out["prediction"], out["probability"], strict=True)]
    log.add(instances, preds, 0.001)
    assert log.flush() is not None
    log.close()


@pytest.fixture(scope="module")
def watched(client, tmp_path_factory):
    """The scheduled check, run once after a 'downtime' of five missed hourly slots, with
    the bot console watching: (the check's invocation, the console transcript, session)."""
    from fleet.cli.drift import schedule_name
    from fleet.store.schema import schedules

    folder = tmp_path_factory.mktemp("drift")
    train_small(client, folder, MODEL)
    data_path = folder / "customers.parquet"
    client.store.endpoints.set_routing(ENDPOINT, {"versions": [
        {"model": MODEL, "version": 1, "app": f"{MODEL}-v1", "weight": 100}]},
        actor="admin", reason="drift test")
    # income moves by about one standard deviation of the training data (gamma(4, 12k))
    _log_predictions(client, data_path, shift_income=24_000.0)

    from bot.console import Session
    from fleet.cluster import ClusterInfo
    from fleet.services import Services

    out = io.StringIO()
    session = Session(client.settings, ClusterInfo.read(client.settings).gateway_url,
                      Services(client), out=out, person="dee", wait_s=10,
                      files_dir=folder / "console-files")
    fleet_cli("drift", "watch", ENDPOINT, "--every", "1h")
    # Fleet was down for five hourly slots: the schedule's last slot is five hours old
    with client.store.engines.write.begin() as conn:
        conn.execute(schedules.update().where(schedules.c.name == schedule_name(ENDPOINT))
                     .values(last_slot=time.time() - 5 * HOUR - 60))

    def checks():
        return [i for i in client.store.invocations.list(function="drift_check", limit=50)
                if i.caller == f"schedule:{schedule_name(ENDPOINT)}"]

    inv = wait_until(lambda: [i for i in checks() if i.status.value in (
        "succeeded", "failed")], timeout_s=180)[0]
    assert inv.status.value == "succeeded", inv.error_message
    report = inv.result["report"]
    # drift.endpoints.drifty.drift_share is 0.3 in this installation: one column of three
    assert report["drifted"] and report["alert"] == "sent", report
    session.watch(60, until=lambda: "[file]" in out.getvalue())
    time.sleep(3)  # several more scheduler ticks: nothing else may run
    session.show()
    fleet_cli("drift", "unwatch", ENDPOINT)
    yield {"checks": checks(), "report": inv.result["report"], "out": out,
           "session": session, "data": data_path, "folder": folder}
    session.close()


def test_a_check_missed_while_down_runs_once_and_alerts_once_with_its_plot(watched, client):
    assert len(watched["checks"]) == 1  # five missed slots, one run
    skipped = [a for a in client.store.audit_entries(target="schedule:drift:drifty")
               if a["action"] == "schedule.skip"]
    assert len(skipped[0]["detail"]["skipped_slots"]) == 4
    text = watched["out"].getvalue()
    assert text.count("Drift on `drifty`") == 1, text
    assert "[Retrain: fleet_drift_retrain drifty]" in text
    assert "[Snooze 4h: fleet_drift_snooze drifty|4]" in text
    saved = [line.split("[file] ", 1)[1].strip() for line in text.splitlines()
             if "[file] " in line]
    assert len(saved) == 1 and open(saved[0], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    slack = watched["session"].slack
    (upload,) = slack.of("files.completeUploadExternal")
    assert upload["thread_ts"]  # in the alert's thread
    assert not slack.of("files.upload")


def test_the_shifted_feature_and_only_it_is_reported_everywhere(watched, client, http):
    report = watched["report"]
    by = {c["column"]: c for c in report["columns"]}
    assert by["income"]["drifted"] and not by["age"]["drifted"]
    assert set(by) == {"age", "income", "prediction"}
    # a reference of 2,000 rows: Evidently's choice is a distance, not a test
    assert by["income"]["method"] == "wasserstein"
    assert report["reference"]["kind"] == "training"
    # over HTTP: latest, history, plot, and the Prometheus gauges
    latest = http.get(f"/v1/drift/{ENDPOINT}").json()
    assert latest["report"]["id"] == report["id"]
    hist = http.get(f"/v1/drift/{ENDPOINT}/history").json()["reports"]
    assert hist[-1]["scores"]["income"]["drifted"] is True
    png = http.get(f"/v1/drift/{ENDPOINT}/reports/{report['id']}/plots/income")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert http.get(f"/v1/drift/{ENDPOINT}/reports/{report['id']}/plots/age").status_code \
        == 404  # only drifted columns get their own plot
    metrics = http.get("/metrics").text
    assert f'fleet_drift_detected{{column="income",endpoint="{ENDPOINT}"}} 1.0' in metrics
    assert f'fleet_drift_detected{{column="age",endpoint="{ENDPOINT}"}} 0.0' in metrics
    # the CLI
    shown = fleet_cli("drift", ENDPOINT).stdout
    assert report["id"] in shown and "income" in shown and "drifted" in shown
    assert report["id"] in fleet_cli("drift", ENDPOINT, "--history", "--json").stdout


def test_the_profile_stored_at_registration_judges_as_the_training_table(watched, http):
    """`train` stores the training data's profile with the version; the scheduled check
    read it instead of the table (issue 28), and judged as a check against the table
    itself does."""
    report = watched["report"]
    assert report["reference"]["profile_uri"].endswith("/profile.npz")
    body = http.post("/v1/functions/drift_check/invoke", json={
        "endpoint": ENDPOINT, "columns": ["age", "income"],
        "reference": {"kind": "uri", "uri": str(watched["data"])}}).json()
    assert body["status"] == "succeeded", body
    table = {c["column"]: c for c in body["result"]["report"]["columns"]}
    stored = {c["column"]: c for c in report["columns"]}
    for name in ("age", "income"):
        assert stored[name]["method"] == table[name]["method"] == "wasserstein"
        assert stored[name]["drifted"] == table[name]["drifted"]
        assert stored[name]["score"] == pytest.approx(table[name]["score"], rel=0.01, abs=1e-3)
        assert stored[name]["psi"] == pytest.approx(table[name]["psi"], rel=1e-9)


def test_a_reader_may_look_but_not_act(watched, gateway_url):
    import httpx

    with httpx.Client(base_url=gateway_url, timeout=30,
                      headers={"Authorization": f"Bearer {READER}"}) as reader:
        assert reader.get(f"/v1/drift/{ENDPOINT}").status_code == 200
        assert reader.post(f"/v1/drift/{ENDPOINT}/actions/retrain").status_code == 403
        assert reader.post(f"/v1/drift/{ENDPOINT}/snooze", json={"hours": 1}).status_code \
            == 403


def test_bad_inputs_get_their_error_and_no_report(watched, client, http):
    before = len(client.store.drift.history(ENDPOINT, limit=1000))

    def check(payload):
        r = http.post("/v1/functions/drift_check/invoke", json=payload)
        return r.status_code, r.json()

    # a window with nothing logged in it
    status, body = check({"endpoint": ENDPOINT, "until": 1_000_000.0, "window_s": 3600})
    assert body["status"] == "failed" and "current window has no rows" in body["error"][
        "message"]
    # a feature missing on one side, and a table outside the data roots
    bad = watched["folder"] / "no_income.csv"
    pd.read_parquet(watched["data"]).drop(columns=["income"]).to_csv(bad, index=False)
    status, body = check({"endpoint": ENDPOINT, "current_uri": str(bad)})
    assert body["status"] == "failed" and "'income' is missing from the current" in body[
        "error"]["message"]
    status, body = check({"endpoint": ENDPOINT, "current_uri": "/etc/passwd.csv"})
    assert status == 403
    status, body = check({"endpoint": ENDPOINT, "reference": {"kind": "window"}})
    assert status == 422 and "since < until" in str(body)
    assert len(client.store.drift.history(ENDPOINT, limit=1000)) == before


def test_retrain_goes_through_an_approval_and_trains_as_the_requester(watched, client):
    session, out = watched["session"], watched["out"]
    session.become("dee")
    session.send(f"click fleet_drift_retrain {ENDPOINT}")
    asked = wait_until(lambda: [a for a in client.store.approvals.list(status="pending")
                                if a.target == f"endpoint:{ENDPOINT}"], timeout_s=30)[0]
    assert asked.requested_by == "dee" and asked.payload["function"] == "train"
    assert f"approval `{asked.id}`" in out.getvalue()
    session.become("bob")
    session.watch(20, until=lambda: session.has_button("fleet_approve"))
    session.send(f"click fleet_approve {asked.id}")
    inv = wait_until(lambda: client.store.invocations.by_idempotency_key(
        scoped_key(f"approval:{asked.id}", None)), timeout_s=30)
    assert inv.caller == "dee" and inv.via == "approval"
    done = wait_until(lambda: (lambda i: i if i.done else None)(
        client.store.invocations.get(inv.id)), timeout_s=300)
    assert done.status.value == "succeeded", done.error_message
    assert done.result["model"] == MODEL and done.result["version"] == 2


def _log_answers(client, data_path, *, at: float, requests: int, per_request: int):
    """Answers the endpoint gave at `at`, as its replicas log them (predlog's layout: one
    row per instance with the router's signed request id and the instance's index), and
    the true churn of each instance: (request ids, predictions, truths) per request."""
    import json

    from fleet.artifacts import ArtifactStore
    from fleet.serving.router import Router

    settings = client.settings
    artifacts = ArtifactStore(settings)
    model = _model(client, artifacts)
    table = pd.read_parquet(data_path).sample(requests * per_request, random_state=5)
    out = model.predict(table[model.features].to_numpy(np.float32))
    signer = Router(settings, client.store, handle_for=lambda app: None)
    rids = [signer.sign(LABELLED, f"{MODEL}:1", issued=at, bandit=False)
            for _ in range(requests)]
    lines = []
    for i in range(requests * per_request):
        lines.append(json.dumps({
            "at": at, "model": MODEL, "version": 1, "latency_ms": 1.0,
            "request_id": rids[i // per_request], "row": i % per_request,
            "input": {"age": int(table["age"].iloc[i]), "income": float(table["income"].iloc[i])},
            "output": {"prediction": int(out["prediction"][i]),
                       "probability": float(out["probability"][i])}}))
    day = time.strftime("%Y-%m-%d", time.gmtime(at))
    artifacts.put_bytes(("\n".join(lines) + "\n").encode(),
                        f"{settings.artifact_root}/predictions/{MODEL}/v1/{day}/t-{int(at)}.jsonl")
    shape = (requests, per_request)
    return (rids, np.asarray(out["prediction"], int).reshape(shape),
            table["churned"].to_numpy(int).reshape(shape))


LABELLED = "labelled"


def test_labels_give_realised_accuracy_next_to_the_estimate_and_a_drop_alerts(watched, client,
                                                                              http):
    """Labels sent to the router's feedback route, joined with the logged answers: the
    realised accuracy next to CBPE's estimate and the registered figure; half the labels
    contradicting the model is a drop beyond 5 points, which alerts without any drift."""
    import httpx

    from fleet.serving import router_url

    client.store.endpoints.set_routing(LABELLED, {"versions": [
        {"model": MODEL, "version": 1, "app": f"{MODEL}-v1", "weight": 100}]},
        actor="admin", reason="labels test")
    end = time.time() - 2 * HOUR  # a window of its own, away from the shifted rows
    rids, preds, truth = _log_answers(client, watched["data"], at=end - 600, requests=60,
                                      per_request=10)
    url = f"{router_url(client.settings)}/endpoints/{LABELLED}/feedback"
    sent = np.array(truth)
    sent[:30] = 1 - sent[:30]  # the world changed: half the answers are now wrong
    with httpx.Client(timeout=30) as c:
        for i, rid in enumerate(rids[:50]):  # labels for 50 of the 60 answers
            labels = [int(v) for v in sent[i]]
            labels[9] = None  # and one instance of each left unlabelled
            r = c.post(url, json={"request_id": rid, "labels": labels})
            assert r.status_code == 200 and r.json()["labelled"] == 9, r.text
        again = c.post(url, json={"request_id": rids[0], "label": 1})
        assert again.status_code == 409
    got = sent[:50, :9]
    expected = float(np.mean(preds[:50, :9] == got))
    registered = client.store.models.get(MODEL, 1).metrics["val_accuracy"]
    assert registered - expected > 0.05  # the scenario is a real drop

    inv = client.invoke("drift_check", {"endpoint": LABELLED, "until": end,
                                        "window_s": HOUR})
    assert inv.status.value == "succeeded", inv.error_message
    report = inv.result["report"]
    perf = report["detail"]["performance"]
    assert not report["drifted"]  # the inputs did not move; the labels did
    assert perf["labelled"] == 450 and perf["labels_received"] == 450
    assert perf["realised"] == pytest.approx(expected, abs=1e-12)
    assert perf["registered"] == pytest.approx(registered) and perf["degraded"]
    assert perf["calibrated"] and 0.5 <= perf["estimated"] <= 1.0  # CBPE, held-out calibrated
    assert report["alert"] == "sent"
    (event,) = client.store.outbox.recent(subject=f"drift:{LABELLED}")
    assert event["kind"] == "drift.detected" and event["payload"]["degraded"] is True
    shown = fleet_cli("drift", LABELLED).stdout
    assert "realised" in shown and "degraded" in shown and f"{expected:.3f}" in shown
    # /metrics caches the store's figures for CACHE_S per gateway instance, and the
    # session's Prometheus scrapes every second: wait out a cache older than the report.
    time.sleep(CACHE_S + 0.1)
    gauge = (f'fleet_model_performance{{endpoint="{LABELLED}",metric="accuracy",'
             f'source="realised",version="{MODEL}:1"}} {expected}')
    shown = [line for line in http.get("/metrics").text.splitlines()
             if line.startswith("fleet_model_performance")]
    assert gauge in shown, shown
