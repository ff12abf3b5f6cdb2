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

    async def sweep(sup: Supervisor) -> None:
        sup._ensure_executor()
        await sup._sweep(recovering=True)

    b = Supervisor(holder="cluster-b")
    asyncio.run(sweep(b))
    assert store.invocations.get(inv.id).status is Status.RUNNING
    assert b.lease is None
    store.leases.release(a)  # cluster a is gone (or its lease ran out)
    b = Supervisor(holder="cluster-b")
    asyncio.run(sweep(b))
    done = store.invocations.get(inv.id)
    assert done.status is Status.FAILED and done.error_type == "Interrupted"
    assert b.lease.token == 2
