"""The store suite: every test runs on SQLite and on a real PostgreSQL server."""

import threading

import pytest

from fleet.errors import Conflict, InvalidInput, NotFound
from fleet.store import SCHEMA_VERSION, Status, Store


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def create(store, **kw):
    args = dict(function="f", payload={"a": 1}, caller="ann", via="python", timeout_s=5,
                retries=1)
    args.update(kw)
    return store.invocations.create(**args)


def test_schema_is_versioned_and_migration_is_repeatable(store_url):
    a = Store(store_url)
    b = Store(store_url)  # second open finds the version and changes nothing
    assert a.schema_version == b.schema_version == SCHEMA_VERSION
    a.close()
    b.close()


def test_create_is_audited_and_starts_queued(store):
    inv, created = create(store)
    assert created and inv.status is Status.QUEUED and inv.attempts == 0
    entries = store.audit_entries(target=inv.id)
    assert entries[0]["action"] == "invocation.create" and entries[0]["actor"] == "ann"


def test_idempotency_key_returns_the_earlier_invocation(store):
    first, c1 = create(store, idempotency_key="k1")
    again, c2 = create(store, idempotency_key="k1")
    assert c1 and not c2 and again.id == first.id
    assert len(store.invocations.list()) == 1


def test_idempotency_key_reused_for_another_function_is_a_conflict(store):
    create(store, idempotency_key="k2")
    with pytest.raises(Conflict, match="already used for function 'f'"):
        create(store, function="g", idempotency_key="k2")


def test_concurrent_creates_with_one_key_make_one_row(store):
    ids, errors = [], []

    def go():
        try:
            ids.append(create(store, idempotency_key="same")[0].id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and len(set(ids)) == 1


def test_attempts_count_and_first_terminal_writer_wins(store):
    inv, _ = create(store)
    assert store.invocations.mark_running(inv.id) == 1
    assert store.invocations.mark_running(inv.id) == 2  # a retry after a worker died
    assert store.invocations.finish(inv.id, Status.SUCCEEDED, result={"ok": True})
    assert not store.invocations.finish(inv.id, Status.TIMED_OUT)
    assert store.invocations.mark_running(inv.id) is None  # ended: a late worker must not run
    got = store.invocations.get(inv.id)
    assert got.status is Status.SUCCEEDED and got.result == {"ok": True}
    assert got.attempts == 2 and got.duration_s is not None


def test_a_queued_invocation_can_time_out_and_only_from_narrows_the_move(store):
    waiting, _ = create(store)
    assert store.invocations.finish(waiting.id, Status.TIMED_OUT, only_from=(Status.QUEUED,),
                                     error_message="never started")
    got = store.invocations.get(waiting.id)
    assert got.status is Status.TIMED_OUT and got.started_at is None and got.attempts == 0
    started, _ = create(store)
    store.invocations.mark_running(started.id)
    # running: "never started" must not be written; the plain timeout is
    assert not store.invocations.finish(started.id, Status.TIMED_OUT, only_from=(Status.QUEUED,))
    assert store.invocations.finish(started.id, Status.TIMED_OUT)


def test_progress_is_kept_while_running_and_after_but_not_written_once_ended(store):
    inv, _ = create(store)
    assert not store.invocations.set_progress(inv.id, {"rows_done": 1})  # queued: not yet
    store.invocations.mark_running(inv.id)
    assert store.invocations.set_progress(inv.id, {"rows_done": 10, "rows_total": 100})
    store.invocations.finish(inv.id, Status.SUCCEEDED, result={})
    assert not store.invocations.set_progress(inv.id, {"rows_done": 20})
    got = store.invocations.get(inv.id)
    assert got.progress == {"rows_done": 10, "rows_total": 100}
    assert got.public()["progress"] == {"rows_done": 10, "rows_total": 100}


def test_racing_terminal_transitions_produce_exactly_one(store):
    inv, _ = create(store)
    store.invocations.mark_running(inv.id)
    wins = []
    barrier = threading.Barrier(6)

    def go(status):
        barrier.wait()
        wins.append(store.invocations.finish(inv.id, status, actor="x"))

    statuses = [Status.SUCCEEDED, Status.CANCELLED, Status.TIMED_OUT] * 2
    threads = [threading.Thread(target=go, args=(s,)) for s in statuses]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert wins.count(True) == 1


def test_cancel_is_audited_with_the_actor(store):
    inv, _ = create(store)
    assert store.invocations.finish(inv.id, Status.CANCELLED, actor="bob")
    actions = [e["action"] for e in store.audit_entries(target=inv.id)]
    assert "invocation.cancel" in actions


def test_unknown_invocation_is_not_found(store):
    with pytest.raises(NotFound, match="fleet invocations"):
        store.invocations.get("inv_nope")


def test_list_filters_and_aggregates(store):
    a, _ = create(store, function="f", via="http")
    b, _ = create(store, function="g", via="cli")
    store.invocations.mark_running(a.id)
    store.invocations.finish(a.id, Status.FAILED, error_type="ValueError", error_message="x")
    assert [i.id for i in store.invocations.list(function="g")] == [b.id]
    assert [i.id for i in store.invocations.list(status="failed")] == [a.id]
    counts = {(f, s, v): n for f, s, v, n in store.invocations.counts()}
    assert counts == {("f", "failed", "http"): 1, ("g", "queued", "cli"): 1}
    hist = store.invocations.duration_histogram()
    assert hist[0][0] == "f" and hist[0][2] == 1
    assert [i.id for i in store.invocations.active()] == [b.id]


def test_schedules_add_remove_and_compare_and_set(store):
    s = store.schedules.add(name="nightly", function="f", spec="@every 2s", payload={},
                            actor="ann", start_after=10.0)
    assert s.last_slot == 10.0
    with pytest.raises(Conflict):
        store.schedules.add(name="nightly", function="f", spec="@every 2s", payload={},
                            actor="ann")
    assert store.schedules.advance("nightly", 10.0, 12.0)
    assert not store.schedules.advance("nightly", 10.0, 12.0)  # a second scheduler loses
    assert store.schedules.advance("nightly", 12.0, 20.0, skipped=[14.0, 16.0])
    assert [e["action"] for e in store.audit_entries(target="schedule:nightly")][:2] == [
        "schedule.skip", "schedule.add"]
    store.schedules.remove("nightly", actor="ann")
    with pytest.raises(NotFound):
        store.schedules.get("nightly")


def test_code_schedules_sync_keeps_progress_and_refuses_runtime_removal(store):
    store.schedules.sync_from_code({"tick": ("tick", "@every 5s")}, actor="scheduler")
    first = store.schedules.get("tick")
    store.schedules.advance("tick", first.last_slot, first.last_slot + 5)
    store.schedules.sync_from_code({"tick": ("tick", "@every 5s")}, actor="scheduler")
    assert store.schedules.get("tick").last_slot == first.last_slot + 5  # restart: no re-run
    with pytest.raises(InvalidInput, match="change it in code"):
        store.schedules.remove("tick", actor="ann")
    store.schedules.sync_from_code({}, actor="scheduler")
    assert store.schedules.list() == []
