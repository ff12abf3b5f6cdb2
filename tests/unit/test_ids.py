"""Ids a person can copy (issue 9, item 6): lists at 80 columns show a short unique prefix
of each id, whole, and every lookup by id accepts that prefix."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from fleet.cli import columns, lists
from fleet.errors import InvalidInput, NotFound
from fleet.names import short_ids
from fleet.store import Store


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def make(store, n=3):
    out = []
    for _ in range(n):
        inv, _ = store.invocations.create(function="a_rather_long_function_name", payload={},
                                          caller="someone-with-a-long-name", via="http",
                                          timeout_s=60, retries=0)
        out.append(inv)
    return out


def insert_as(store, inv_id):
    row = store.invocations.new_row(function="f", payload={}, caller="c", via="http",
                                    timeout_s=60, retries=0)
    row["id"] = inv_id
    return store.invocations.insert(row)[0]


def test_a_unique_prefix_finds_the_row_and_an_ambiguous_one_says_so(store):
    for inv in make(store):
        assert store.invocations.get(inv.id[:14]).id == inv.id
    insert_as(store, "inv_abcdef0011")
    insert_as(store, "inv_abcdef0022")
    assert store.invocations.get("inv_abcdef001").id == "inv_abcdef0011"
    with pytest.raises(InvalidInput, match="matches 2 invocations.*give more characters"):
        store.invocations.get("inv_abcdef00")
    with pytest.raises(NotFound):
        store.invocations.get("inv_")  # too short to look up: it would match everything
    with pytest.raises(NotFound):
        store.invocations.get("inv_zzzzzz")
    insert_as(store, "inv_50%_off")  # LIKE wildcards in a prefix are literal
    with pytest.raises(NotFound):
        store.invocations.get("inv_5_%")


def test_short_ids_grow_until_they_are_unique():
    ids = ["inv_0123456789abcdef", "inv_0123456789abXXXX", "inv_ffff000011112222"]
    short = short_ids(ids)
    assert short["inv_ffff000011112222"] == "inv_ffff0000"
    assert short["inv_0123456789abcdef"] == "inv_0123456789abc"
    assert len(set(short.values())) == 3


def test_lists_at_80_columns_show_whole_ids_that_every_command_accepts(store, monkeypatch):
    invs = make(store, 4)
    out = io.StringIO()
    lists.show([i.public() for i in store.invocations.list(limit=10)], columns.INVOCATIONS,
               console=Console(file=out, width=80))
    text = out.getvalue()
    shown = [line.split()[0] for line in text.splitlines() if line.startswith("inv_")]
    assert len(shown) == 4 and all("…" not in s for s in shown)
    assert {store.invocations.get(s).id for s in shown} == {i.id for i in invs}


def test_ids_made_apart_show_in_twelve_characters_and_a_burst_in_few_more():
    """Invocation ids start with the clock (so SQLite appends to its index instead of
    writing a page per insert); the clock part is short enough that a list of ids made a
    few ms apart still shows 12 characters, and 50 made in one burst at most 15."""
    import time

    from fleet.store.invocations import new_id

    apart = []
    for _ in range(30):
        apart.append(new_id())
        time.sleep(0.002)
    assert {len(v) for v in short_ids(apart).values()} == {12}
    burst = [new_id() for _ in range(50)]
    assert max(len(v) for v in short_ids(burst).values()) <= 15
    assert len(set(burst)) == 50
    assert all(len(i) == 36 and i.startswith("inv_") for i in burst)
    assert sorted(apart) == apart or apart[0][4:10] > apart[-1][4:10]  # rising (or wrapped)
