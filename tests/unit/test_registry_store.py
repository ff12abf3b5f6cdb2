"""Run tracking and the model registry, on SQLite and on a real PostgreSQL server."""

import threading

import pytest
from sqlalchemy import create_engine, text

from fleet.errors import InvalidInput, NotFound
from fleet.store import SCHEMA_VERSION, Store


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def register(store, run_id=None, model="churn", **kw):
    args = dict(model=model, artifact_uri="file:///tmp/m.pt", flavor="torch-mlp",
                run_id=run_id, metrics={"f1": 0.8}, params={"lr": 0.01},
                lineage={"data": "file:///d.parquet"}, actor="ann")
    args.update(kw)
    return store.models.register(**args)


def test_a_v1_database_migrates_to_the_latest_keeping_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    from fleet.store import engine, schema

    old = engine.make_engines(url)
    with old.write.begin() as conn:
        engine.MIGRATIONS[1](conn)
        schema.schema_version.create(conn)
        conn.execute(schema.schema_version.insert().values(version=1, applied_at=0))
        conn.execute(schema.schedules.insert().values(
            name="keep", function="f", spec="@every 5s", payload={}, origin="runtime",
            enabled=True, last_slot=1.0, created_at=0, created_by="x"))
    s = Store(url)
    assert s.schema_version == SCHEMA_VERSION and s.schedules.get("keep").last_slot == 1.0
    register(s)  # the v2 tables exist
    versions = create_engine(url).connect().execute(
        text("select version from fleet_schema_version order by version")).scalars().all()
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_runs_record_params_metrics_per_step_and_resume(store):
    run = store.runs.start(experiment="churn", function="train", params={"lr": 0.1},
                           data_uri="file:///d", data_fingerprint="sha256:ab",
                           code_version="git:1234")
    store.runs.log_metrics(run.id, 1, {"loss": 0.9})
    store.runs.log_metrics(run.id, 2, {"loss": 0.7})
    store.runs.finish(run.id, "stopped")
    again = store.runs.start(experiment="churn", function="train", params={}, run_id=run.id)
    assert again.status == "running" and again.params == {"lr": 0.1}
    store.runs.log_metrics(run.id, 2, {"loss": 0.65})  # the repeated epoch replaces
    store.runs.log_metrics(run.id, 3, {"loss": 0.5})
    assert store.runs.metrics(run.id) == {1: {"loss": 0.9}, 2: {"loss": 0.65}, 3: {"loss": 0.5}}
    done = store.runs.finish(run.id, "finished", artifacts={"model": "file:///m"})
    assert done.summary == {"loss": 0.5, "step": 3} and done.artifacts == {"model": "file:///m"}
    other = store.runs.start(experiment="churn", function="train", params={"lr": 0.01})
    store.runs.log_metrics(other.id, 1, {"loss": 0.4})
    table = store.runs.compare([run.id, other.id])
    assert [r["metric.loss"] for r in table] == [0.5, 0.4] and table[1]["param.lr"] == 0.01


def test_an_invocation_finds_the_run_it_last_opened(store):
    """What a retried `train` attempt resumes: its own invocation's run, never another's."""
    assert store.runs.of_invocation("inv_a") is None
    mine = store.runs.start(experiment="churn", function="train", params={},
                            invocation_id="inv_a")
    store.runs.start(experiment="churn", function="train", params={}, invocation_id="inv_b")
    assert store.runs.of_invocation("inv_a").id == mine.id
    resumed = store.runs.start(experiment="churn", function="train", params={},
                               run_id=mine.id, invocation_id="inv_c")  # resumed by id
    assert store.runs.of_invocation("inv_c").id == resumed.id == mine.id


def test_versions_count_up_and_a_run_registers_once(store):
    v1 = register(store, run_id="run_a")
    v2 = register(store, run_id="run_b")
    again = register(store, run_id="run_a")
    assert (v1.version, v2.version, again.version) == (1, 2, 1)
    assert [v.version for v in store.models.versions("churn")] == [1, 2]


def test_concurrent_registrations_get_distinct_versions(store):
    got, errors = [], []
    barrier = threading.Barrier(12)  # all twelve read max(version) at the same moment

    def go(i):
        barrier.wait()
        try:
            got.append(register(store, run_id=f"run_{i}").version)
        except Exception as exc:  # reported below, with the versions that did register
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and sorted(got) == list(range(1, 13))


def test_aliases_move_with_reason_history_and_audit(store):
    register(store, run_id="r1")
    register(store, run_id="r2")
    assert store.models.move_alias(model="churn", alias="champion", version=1, actor="ann",
                                   reason="first model")
    assert store.models.move_alias(model="churn", alias="champion", version=2, actor="bob",
                                   reason="+2 F1")
    assert store.models.resolve("churn@champion").version == 2
    assert store.models.resolve("churn:1").version == 1
    assert store.models.resolve("churn").version == 2
    hist = store.models.alias_history("churn")
    assert [(h["from_version"], h["to_version"], h["actor"]) for h in hist] == [
        (None, 1, "ann"), (1, 2, "bob")]
    assert not store.models.move_alias(model="churn", alias="champion", version=1, actor="c",
                                       reason="stale", expected=1)  # compare-and-set
    actions = [e["action"] for e in store.audit_entries(target="model:churn")]
    assert actions.count("model.alias") == 2


def test_alias_refusals_are_clear(store):
    register(store)
    with pytest.raises(NotFound, match="no version 9"):
        store.models.move_alias(model="churn", alias="champion", version=9, actor="a",
                                reason="x")
    with pytest.raises(InvalidInput, match="needs a reason"):
        store.models.move_alias(model="churn", alias="champion", version=1, actor="a",
                                reason=" ")
    with pytest.raises(NotFound, match="has no alias 'prod'"):
        store.models.resolve("churn@prod")
    with pytest.raises(InvalidInput):
        register(store, model="bad name!")
    assert store.models.aliases("churn") == {}  # nothing half-done
