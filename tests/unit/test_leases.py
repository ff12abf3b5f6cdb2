"""The supervisor's lease: one sweeper per store, fenced by a token, on both backends."""

from __future__ import annotations

import asyncio
import time

import pytest

from fleet import config
from fleet.store import Status, open_store
from fleet.store.invocations import InvocationRepo
from fleet.store.leases import fenced


def test_one_holder_at_a_time_and_a_new_token_on_each_takeover(store_url):
    store = open_store(store_url)
    a = store.leases.hold("supervisor", "cluster-a", ttl_s=0.5)
    assert a is not None and a.token == 1
    assert store.leases.hold("supervisor", "cluster-b", ttl_s=0.5) is None  # a's, unexpired
    renewed = store.leases.hold("supervisor", "cluster-a", ttl_s=0.5)
    assert renewed.token == 1  # a renewal keeps the token
    time.sleep(0.6)
    b = store.leases.hold("supervisor", "cluster-b", ttl_s=30)
    assert b is not None and b.token == 2  # expired: b's now, fencing a out
    assert store.leases.hold("supervisor", "cluster-a", ttl_s=30) is None
    store.leases.release(b)
    assert store.leases.hold("supervisor", "cluster-a", ttl_s=30).token == 3  # at once


def test_a_fenced_write_from_a_holder_that_lost_the_lease_is_refused(store_url):
    store = open_store(store_url)
    inv, _ = store.invocations.create(function="f", payload={}, caller="ann", via="http",
                                      timeout_s=60, retries=0)
    store.invocations.mark_running(inv.id)
    old = store.leases.hold("supervisor", "cluster-a", ttl_s=0.2)
    time.sleep(0.3)
    new = store.leases.hold("supervisor", "cluster-b", ttl_s=30)
    late = InvocationRepo.finish_op(inv.id, Status.FAILED, error_type="Interrupted",
                                    fence=fenced(old))
    with store.engines.write.begin() as conn:
        assert late(conn) is None  # a paused old holder cannot fail the work
    assert store.invocations.get(inv.id).status is Status.RUNNING
    current = InvocationRepo.finish_op(inv.id, Status.FAILED, error_type="Interrupted",
                                       fence=fenced(new))
    with store.engines.write.begin() as conn:
        assert current(conn).status is Status.FAILED


def sweep_once(sup) -> None:
    """One recovering sweep of a real supervisor, as on its start (no Ray task is started:
    the invocations in these tests are out of retries, or left alone)."""
    async def sweep() -> None:
        sup._ensure_executor()
        await sup._sweep(recovering=True)

    asyncio.run(sweep())


@pytest.fixture
def installation(store_url, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "fleet.yaml").write_text(f"store_url: '{store_url}'\nfunction_modules: []\n")
    monkeypatch.setenv("FLEET_HOME", str(home))
    monkeypatch.delenv("FLEET_STORE_URL", raising=False)
    config.clear_cache()
    yield open_store(store_url)
    config.clear_cache()


def test_a_second_clusters_supervisor_leaves_the_first_ones_running_work_alone(installation):
    """Blue-green: cluster b's supervisor starts on cluster a's store. It must not fail a's
    running invocation (out of retries, so a sweep would fail it) while a holds the lease;
    once a's lease is gone, b recovers it like after a restart."""
    from fleet.runtime.supervisor import Supervisor

    store = installation
    inv, _ = store.invocations.create(function="f", payload={}, caller="ann", via="http",
                                      timeout_s=600, retries=0)
    store.invocations.mark_running(inv.id)
    store.invocations.mark_running(inv.id)  # attempts 2 > retries 0: a sweep would fail it
    a = store.leases.hold("supervisor", "cluster-a", ttl_s=60)

    b = Supervisor(holder="cluster-b")
    sweep_once(b)
    assert store.invocations.get(inv.id).status is Status.RUNNING
    assert b.lease is None
    store.leases.release(a)  # cluster a is gone (or its lease ran out)
    b = Supervisor(holder="cluster-b")
    sweep_once(b)
    done = store.invocations.get(inv.id)
    assert done.status is Status.FAILED and done.error_type == "Interrupted"
    assert b.lease.token == 2


def test_a_peer_instances_work_is_left_alone_while_it_lives_and_adopted_once_it_is_gone(
        installation):
    """Two supervisor instances serve the gateway. The primary (sweep lease) must not run
    again what a live peer runs; once the peer's member lease lapses (it is gone for good),
    the primary adopts its work: recorded as the new owner, run again while retries allow."""
    from fleet.runtime.supervisor import Supervisor

    store = installation
    row = store.invocations.new_row(function="f", payload={}, caller="ann", via="http",
                                    timeout_s=600, retries=0, owner="fleet-supervisor-1/b")
    inv, _ = store.invocations.insert(row)
    store.invocations.mark_running(inv.id)
    store.invocations.mark_running(inv.id)  # out of retries: an adopter fails it
    peer = store.leases.hold("member:fleet-supervisor-1/b", "fleet-supervisor-1/b", ttl_s=60)

    primary = Supervisor(holder="fleet-supervisor/a")
    sweep_once(primary)
    assert primary.lease is not None  # it sweeps ...
    assert store.invocations.get(inv.id).status is Status.RUNNING  # ... but not the peer's
    assert store.leases.get("member:fleet-supervisor/a").expires_at > time.time()

    store.leases.release(peer)  # the peer is gone
    sweep_once(Supervisor(holder="fleet-supervisor/a"))
    done = store.invocations.get(inv.id)
    assert done.owner == "fleet-supervisor/a"
    assert done.status is Status.FAILED and done.error_type == "Interrupted"


def test_a_secondary_instance_recovers_only_its_own_work(installation):
    """A secondary never holds the sweep lease: after a restart it runs again what it owned
    and leaves what nobody owns (the primary's) alone."""
    from fleet.runtime.supervisor import Supervisor

    store = installation
    mine = store.invocations.new_row(function="f", payload={}, caller="ann", via="http",
                                     timeout_s=600, retries=0, owner="fleet-supervisor-1/b")
    nobodys = store.invocations.new_row(function="f", payload={}, caller="ann", via="cli",
                                        timeout_s=600, retries=0)
    for row in (mine, nobodys):
        inv, _ = store.invocations.insert(row)
        store.invocations.mark_running(inv.id)
        store.invocations.mark_running(inv.id)

    secondary = Supervisor(holder="fleet-supervisor-1/b", index=1, count=2)
    sweep_once(secondary)
    assert secondary.lease is None and store.leases.get("supervisor") is None
    assert store.invocations.get(mine["id"]).status is Status.FAILED
    assert store.invocations.get(nobodys["id"]).status is Status.RUNNING


def test_an_adoption_is_a_compare_and_set_on_the_owner(store_url):
    store = open_store(store_url)
    inv, _ = store.invocations.insert(store.invocations.new_row(
        function="f", payload={}, caller="ann", via="http", timeout_s=60, retries=0,
        owner="gone/1"))
    assert store.invocations.adopt(inv.id, "gone/1", "a/2")
    assert not store.invocations.adopt(inv.id, "gone/1", "c/3")  # a took it first
    store.invocations.finish(inv.id, Status.SUCCEEDED)
    assert not store.invocations.adopt(inv.id, "a/2", "c/3")  # ended: nothing to adopt
    assert store.invocations.get(inv.id).owner == "a/2"
