"""The group writers of every process on one SQLite file take turns on a file lock
(fleet.store.writer_turn): a writer waits in the kernel for another process's commit instead
of polling SQLite's lock, and a process that dies holding its turn holds up nobody."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from fleet.store import Status, Store
from fleet.store.invocations import InvocationRepo
from fleet.store.writer import GroupWriter

HOLD = """
import sys, time
from fleet.store import Store
store = Store(sys.argv[1])
with store.engines.turn():
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    store = Store(url)
    yield url, store
    store.close()


def _holder(url: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url, str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def _create(store) -> tuple[str, float]:
    writer = GroupWriter(store.engines)
    row = InvocationRepo.new_row(function="f", payload={}, caller="ann", via="http",
                                 timeout_s=5, retries=0)
    t0 = time.monotonic()
    writer.run(InvocationRepo.insert_op(row))
    took = time.monotonic() - t0
    writer.close()
    return row["id"], took


def test_a_writer_waits_for_another_process_turn_then_commits(db):
    url, store = db
    holder = _holder(url, 1.0)
    inv_id, took = _create(store)
    holder.wait(10)
    assert took >= 0.5  # it waited for the other process's turn to end
    assert store.invocations.get(inv_id).status is Status.QUEUED


def test_a_process_killed_holding_its_turn_holds_up_nobody(db):
    url, store = db
    holder = _holder(url, 60)
    holder.kill()
    holder.wait(10)
    inv_id, took = _create(store)
    assert took < 5
    assert store.invocations.get(inv_id) is not None


def test_the_turn_file_sits_beside_the_database_readable_by_its_owner_only(db, tmp_path):
    _, store = db
    _create(store)
    mode = stat.S_IMODE(os.stat(tmp_path / "fleet.db.writers").st_mode)
    assert mode & 0o077 == 0


def test_two_writer_threads_of_one_process_take_turns(db):
    _, store = db
    inside, most = [0], [0]
    guard = threading.Lock()

    def write():
        for _ in range(50):
            with store.engines.turn():
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most[0] == 1
