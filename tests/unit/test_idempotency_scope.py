"""Whose an idempotency key is (fleet.names.scoped_key): a caller's key never equals
another caller's or one of Fleet's own, whatever the names and keys; records show the key
as it was sent; and schema v14 gives every stored key its owner."""

from __future__ import annotations

import itertools

from sqlalchemy import text

from fleet.names import scoped_key, unscoped_key
from fleet.store import Store
from fleet.store.engine import migrate

CALLERS = ["ann", "fleet", "3:ab", "a:b", "schedule:nightly", "", "12"]
KEYS = ["k", "approval:apr_1", "schedule:nightly:1700000000", "1:a:k", "fleet:k", ":", ""]


def test_no_two_owners_share_a_stored_key():
    stored = {}
    for caller, key in itertools.product([*CALLERS, None], KEYS):
        s = scoped_key(key, caller)
        assert stored.setdefault(s, (caller, key)) == (caller, key), s
        assert unscoped_key(s) == key
    assert scoped_key(None, "ann") is None


def test_v14_gives_every_stored_key_its_owner(store_url):
    store = Store(store_url)
    try:
        mine, _ = store.invocations.create(function="hello", payload={}, caller="ann",
                                           via="http", timeout_s=5, retries=0,
                                           idempotency_key="order-7")
        slot, _ = store.invocations.create(function="hello", payload={}, caller="schedule:s",
                                           via="schedule", timeout_s=5, retries=0,
                                           idempotency_key="schedule:s:1")
        with store.engines.write.begin() as conn:  # as an installation at v13 left them
            conn.execute(text("DELETE FROM fleet_schema_version WHERE version >= 14"))
        migrate(store.engines)
        assert store.invocations.by_idempotency_key(scoped_key("order-7", "ann")).id == mine.id
        assert store.invocations.by_idempotency_key(scoped_key("order-7", "bob")) is None
        own = store.invocations.by_idempotency_key(scoped_key("schedule:s:1", None))
        assert own.id == slot.id and own.idempotency_key == "schedule:s:1"
        assert store.invocations.get(mine.id).public()["idempotency_key"] == "order-7"
    finally:
        store.close()
