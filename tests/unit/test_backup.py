"""`fleet backup`: an online copy of a SQLite store taken while writers keep writing, which
opens as a store of the current schema with everything committed before the copy; a
PostgreSQL store is pointed at pg_dump, and an existing file is never overwritten unasked."""

from __future__ import annotations

import threading
import time

import pytest

from fleet.errors import InvalidInput
from fleet.store import SCHEMA_VERSION, Store
from fleet.store.backup import backup


def test_a_backup_taken_under_writes_is_a_consistent_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    store = Store(url)
    before = [store.invocations.create(function="f", payload={"i": i}, caller="ann",
                                       via="http", timeout_s=60, retries=0)[0].id
              for i in range(200)]
    stop, written = threading.Event(), []

    def writer():  # bounded: at most 2,000 rows, or until the backup is done
        for i in range(2000):
            if stop.is_set():
                return
            written.append(store.invocations.create(function="g", payload={"i": i},
                                                    caller="bob", via="http", timeout_s=60,
                                                    retries=0)[0].id)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.2)
    done = backup(url, tmp_path / "copy" / "fleet.db")
    stop.set()
    t.join(timeout=60)
    assert done["bytes"] > 0 and done["pages"] > 0 and written
    copy = Store(f"sqlite:///{done['path']}")
    try:
        assert copy.schema_version == SCHEMA_VERSION
        ids = {i.id for i in copy.invocations.list(limit=10_000)}
        assert set(before) <= ids  # everything committed before the copy is in it
        assert ids <= set(before) | set(written)  # and nothing that was never written
    finally:
        copy.close()
        store.close()
    with pytest.raises(InvalidInput) as err:
        backup(url, tmp_path / "copy" / "fleet.db")
    assert err.value.errors[0].field == "DEST"
    assert not (tmp_path / "copy" / "fleet.db.partial").exists()


def test_postgres_is_pointed_at_pg_dump(tmp_path):
    with pytest.raises(InvalidInput) as err:
        backup("postgresql://fleet:secret@db/fleet", tmp_path / "x.db")
    assert "pg_dump" in str(err.value) and "secret" not in str(err.value)
