"""Drift reports and their alerts on SQLite and PostgreSQL: a drifted report and its
`drift.detected` event are one transaction; no second alert while one is unanswered or the
endpoint is snoozed; asking to retrain or roll back answers it through an approval that,
once someone else approves, runs the function as the requester, once."""

from __future__ import annotations

import pytest

from fleet.approvals import Approvals
from fleet.config import load_settings
from fleet.drift.actions import DriftActions
from fleet.errors import Conflict, Forbidden, InvalidInput
from fleet.identity import Identity, expand
from fleet.store import Store
from tests.unit.test_rollout_controller import arm


def person(name, roles=("approver",), scopes=("invoke",)) -> Identity:
    return Identity(name, expand(scopes), frozenset(roles))


def result(drifted: bool) -> dict:
    cols = [{"column": "age", "kind": "numeric", "method": "ks", "score": 1e-9 if drifted
             else 0.4, "threshold": 0.05, "drifted": drifted, "psi": 0.9 if drifted else 0.01,
             "reference_rows": 500, "current_rows": 400},
            {"column": "plan", "kind": "categorical", "method": "chisquare", "score": 0.6,
             "threshold": 0.05, "drifted": False, "psi": 0.02, "reference_rows": 500,
             "current_rows": 400}]
    return {"columns": cols, "drift_share": 0.5, "drifted_share": 0.5 if drifted else 0.0,
            "dataset_drift": drifted, "reference_rows": 500, "current_rows": 400,
            "drifted_columns": ["age"] if drifted else []}


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "fleet.yaml").write_text("approvals: {ttl_s: 600}\n")
    return load_settings(tmp_path)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    s.models.register(model="churn", artifact_uri="file:///m.pt", flavor="torch-mlp",
                      run_id=None, metrics={}, params={"data": "/data/churn.parquet",
                                                       "features": ["age"], "label": "y",
                                                       "run_id": None, "epochs": 3},
                      lineage={"data_uri": "file:///data/churn.parquet"}, actor="ann")
    s.endpoints.set_routing("web", {"versions": [{**arm(1), "weight": 100}]},
                            actor="ann", reason="first deploy")
    yield s
    s.close()


def save(store, drifted=True, endpoint="web"):
    return store.drift.save(endpoint=endpoint, model="churn", version=1, kind="drift",
                            reference={"kind": "training"}, window=(0.0, 3600.0),
                            result=result(drifted), plots={"summary": "file:///x.png"},
                            actor="schedule:drift:web")


def events(store):
    return [e for e in store.outbox.recent(subject="drift:web") if e["kind"] == "drift.detected"]


def test_a_drifted_report_alerts_once_until_someone_answers(store):
    first = save(store)
    assert first["alert"] == "sent" and first["drifted_columns"] == ["age"]
    assert [c["column"] for c in first["columns"]] == ["age", "plan"]  # drifted first
    (event,) = events(store)
    assert event["payload"]["report"] == first["id"]
    assert event["payload"]["drifted_columns"] == ["age"]
    # the next checks drift too, but the first alert is still unanswered: stored, not sent
    assert save(store)["alert"] == "open"
    assert save(store, drifted=False)["alert"] == "none"
    assert len(events(store)) == 1
    assert store.drift.alert("web")["open_report"] == first["id"]


def test_a_report_without_drift_or_endpoint_never_alerts(store):
    assert save(store, drifted=False)["alert"] == "none"
    assert save(store, endpoint="")["alert"] == "none"
    assert events(store) == []


def test_snooze_holds_alerts_and_lifting_it_lets_them_through(store, settings):
    actions = DriftActions(store, settings)
    save(store)
    actions.snooze("web", 2, person("ann"))  # also answers the open alert
    assert save(store)["alert"] == "snoozed"
    actions.snooze("web", 0, person("ann"))
    assert save(store)["alert"] == "sent"
    assert len(events(store)) == 2
    with pytest.raises(InvalidInput) as err:
        actions.snooze("web", 10_000, person("ann"))
    assert err.value.errors[0].field == "hours"
    audit = [a["action"] for a in store.audit_entries(target="drift:web")]
    assert audit.count("drift.snooze") == 3 - 1  # the refused one changed nothing


def test_history_and_latest_scores_follow_the_newest_report(store):
    save(store, drifted=False)
    newest = save(store)
    hist = store.drift.history("web")
    assert [h["id"] for h in hist][-1] == newest["id"] and len(hist) == 2
    assert hist[-1]["scores"]["age"] == {"score": 1e-9, "drifted": True}
    assert store.drift.latest("web")["id"] == newest["id"]
    gauges = {r["column"]: r for r in store.drift.latest_scores()}
    assert gauges["age"]["drifted"] and gauges["age"]["endpoint"] == "web"


def test_retrain_opens_an_approval_that_runs_train_once_as_the_requester(store, settings):
    runs = []

    def invoke(name, payload, **kw):
        runs.append((name, payload, kw))

    save(store)
    ap = DriftActions(store, settings).request("web", "retrain", person("ann", roles=()))
    assert ap.gate == "action" and ap.status == "pending"
    assert ap.payload["input"]["model_name"] == "churn"
    assert ap.payload["input"]["data"] == "/data/churn.parquet"
    assert "run_id" not in ap.payload["input"]
    assert store.drift.alert("web")["open_report"] is None  # answered, in the same change
    approvals = Approvals(store, settings, invoke=invoke)
    with pytest.raises(Forbidden):  # nobody approves their own request
        approvals.decide(person("ann"), ap.id, approve=True)
    assert runs == []
    approvals.decide(person("bob"), ap.id, approve=True)
    (name, payload, kw) = runs[0]
    assert name == "train" and kw["caller"] == "ann" and kw["via"] == "approval"
    assert kw["own_key"] == f"approval:{ap.id}"  # Fleet's own key: no caller can take it
    # the scheduler's sweep starts approved actions that never started: this one did not
    # (invoke was a recorder), so it is started again under the same key, never a new one
    approvals.run_approved_actions()
    assert [r[2]["own_key"] for r in runs] == [f"approval:{ap.id}"] * 2


def test_roll_back_needs_a_version_that_was_replaced(store, settings):
    with pytest.raises(Conflict) as err:
        DriftActions(store, settings).request("web", "rollback", person("ann"))
    assert "No version to roll back to" in str(err.value)
    with pytest.raises(Forbidden):
        DriftActions(store, settings).request("web", "retrain", person("rita", scopes=("read",)))


def test_no_new_alert_while_the_answer_is_decided_or_runs(store, settings):
    """Someone asked to retrain: the next checks still drift (the old model still serves),
    but they wait on that action instead of alerting again; once it is refused (or done),
    drift alerts again."""
    save(store)
    actions = DriftActions(store, settings)
    ap = actions.request("web", "retrain", person("ann", roles=()))
    assert save(store)["alert"] == "acting"  # the approval is pending
    approvals = Approvals(store, settings, invoke=lambda *a, **kw: None)
    approvals.decide(person("bob"), ap.id, approve=True)
    assert save(store)["alert"] == "acting"  # approved, its run not finished
    second = actions.request("web", "retrain", person("ann", roles=()))
    approvals.decide(person("bob"), second.id, approve=False, comment="not now")
    assert save(store)["alert"] == "sent"  # refused: nothing is under way any more
    assert len(events(store)) == 2
