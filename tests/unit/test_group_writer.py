"""The group writer: concurrent operations share commits, and a bad one fails alone."""

import concurrent.futures as cf
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from fleet.store import Status, Store
from fleet.store.invocations import InvocationRepo
from fleet.store.writer import GroupWriter


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def _row(**kw):
    args = dict(function="f", payload={"a": 1}, caller="ann", via="http", timeout_s=5,
                retries=0)
    args.update(kw)
    return InvocationRepo.new_row(**args)


def test_concurrent_creates_share_commits_and_all_land(store):
    writer = GroupWriter(store.engines)
    gate = threading.Event()
    # hold the writer on a first operation so the others queue up behind it
    first = writer.submit(lambda conn: gate.wait(5))
    rows = [_row() for _ in range(50)]
    futs = [writer.submit(InvocationRepo.insert_op(r)) for r in rows]
    gate.set()
    assert first.result(5) is True
    assert all(f.result(10) is True for f in futs)
    assert writer.commits <= 3 and writer.ops == 51  # 51 operations, a couple of commits
    for r in rows:
        assert store.invocations.get(r["id"]).status is Status.QUEUED
    writer.close()


def test_a_failing_operation_fails_alone_and_the_rest_commit(store):
    writer = GroupWriter(store.engines)
    gate = threading.Event()
    writer.submit(lambda conn: gate.wait(5))
    good = [_row() for _ in range(5)]
    futs = [writer.submit(InvocationRepo.insert_op(r)) for r in good[:3]]
    bad = writer.submit(lambda conn: conn.execute(text("SELECT * FROM no_such_table")))
    futs += [writer.submit(InvocationRepo.insert_op(r)) for r in good[3:]]
    gate.set()
    with pytest.raises((OperationalError, ProgrammingError), match="no_such_table"):
        bad.result(10)
    assert all(f.result(10) is True for f in futs)
    assert len({store.invocations.get(r["id"]).id for r in good}) == 5
    writer.close()


def test_a_duplicate_idempotency_key_in_a_group_returns_the_earlier_one(store):
    writer = GroupWriter(store.engines)
    rows = [_row(idempotency_key="order-42") for _ in range(8)]
    with cf.ThreadPoolExecutor(8) as pool:
        inserted = list(pool.map(lambda r: writer.run(InvocationRepo.insert_op(r)), rows))
    assert inserted.count(True) == 1
    winner = rows[inserted.index(True)]["id"]
    for r, ok in zip(rows, inserted, strict=True):
        inv, created = store.invocations.created(r, ok)
        assert inv.id == winner and created == ok
    writer.close()


def test_an_outcome_records_the_workers_times_and_attempt_and_returns_the_record(store):
    writer = GroupWriter(store.engines)
    inv, _ = store.invocations.create(function="f", payload={}, caller="a", via="http",
                                      timeout_s=5, retries=1)
    rec = writer.run(InvocationRepo.finish_op(
        inv.id, Status.SUCCEEDED, result={"ok": 1}, attempts=2, started_at=inv.created_at + 1,
        finished_at=inv.created_at + 3))
    assert rec.status is Status.SUCCEEDED and rec.result == {"ok": 1} and rec.attempts == 2
    assert rec.started_at == pytest.approx(inv.created_at + 1)
    assert rec.duration_s == pytest.approx(2.0)
    assert store.invocations.get(inv.id) == rec
    # the first writer won: a late second outcome changes nothing
    assert writer.run(InvocationRepo.finish_op(inv.id, Status.FAILED)) is None
    writer.close()


def test_batched_inserts_and_outcomes_commit_together_and_a_lost_race_is_told(store):
    repo = InvocationRepo
    writer = GroupWriter(store.engines, batchers={"insert": repo.insert_batch,
                                                  "finish": repo.finish_batch})
    rows = [_row() for _ in range(6)]
    assert all(f.result(10) for f in [writer.submit_item("insert", r) for r in rows])
    # one of them was cancelled first: its outcome loses, the others win
    store.invocations.finish(rows[2]["id"], Status.CANCELLED, actor="ann")
    gate = threading.Event()
    writer.submit(lambda conn: gate.wait(5))
    futs = [writer.submit_item("finish", repo.outcome_item(
        r["id"], Status.SUCCEEDED, result={"n": i}, attempts=1, started_at=r["created_at"],
        finished_at=r["created_at"] + 0.5)) for i, r in enumerate(rows)]
    gate.set()
    assert [f.result(10) for f in futs] == [True, True, False, True, True, True]
    for i, r in enumerate(rows):
        got = store.invocations.get(r["id"])
        if i == 2:
            assert got.status is Status.CANCELLED and got.result is None
        else:
            assert got.status is Status.SUCCEEDED and got.result == {"n": i}
            assert got.attempts == 1 and got.duration_s == pytest.approx(0.5)
    assert len(store.audit_entries(limit=100)) >= 6  # every create is audited
    writer.close()


def test_a_connection_the_database_dropped_costs_no_write(store):
    """PostgreSQL: the writer's connection has no pre-ping; one killed between groups (a
    database restart, an idle timeout) is replaced and the group still commits."""
    if store.engines.dialect != "postgresql":
        pytest.skip("SQLite connections are files; nothing drops them")
    writer = GroupWriter(store.engines, batchers={"insert": InvocationRepo.insert_batch})
    first = _row()
    assert writer.submit_item("insert", first).result(10) is True
    pid = writer.run(lambda conn: conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    with store.engines.write.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    second = _row()
    assert writer.submit_item("insert", second).result(10) is True
    assert store.invocations.get(second["id"]).status is Status.QUEUED
