"""Schedules survive restarts: every slot runs once, none is lost."""

import time

import ray

from fleet.cluster import NAMESPACE
from fleet.scheduler.actor import SCHEDULER_NAME
from fleet.scheduler.core import SchedulerCore
from tests.integration.conftest import wait_until


def schedule_runs(client, name):
    prefix = f"schedule:{name}:"
    return sorted((i for i in client.list(function="mark", via="schedule", limit=500)
                   if (i.idempotency_key or "").startswith(prefix)),
                  key=lambda i: i.idempotency_key)


def test_scheduler_restart_between_slots_runs_each_slot_once(client, tmp_path):
    out = tmp_path / "ticks.txt"
    name = "restart-test"
    # Its own catch-up limit is high: a restart slower than max_catchup slots (14 s on a
    # loaded machine, 5 slots of 2 s) would skip slots by design, which is not what this
    # test is about.
    client.store.schedules.add(name=name, function="mark", spec="@every 2s",
                               payload={"path": str(out), "tag": "tick"}, actor="test",
                               max_catchup=100)
    try:
        wait_until(lambda: len(schedule_runs(client, name)) >= 2, 30)
        sched = ray.get_actor(SCHEDULER_NAME, namespace=NAMESPACE)
        ray.kill(sched, no_restart=False)  # Ray restarts it, like a crashed node process
        before = len(schedule_runs(client, name))
        wait_until(lambda: len(schedule_runs(client, name)) >= before + 3, 60)
    finally:
        client.store.schedules.remove(name, actor="test")
    time.sleep(1)  # a tick already under way when the schedule went may still start a slot
    runs = schedule_runs(client, name)
    wait_until(lambda: all(client.get(r.id).done for r in runs), 30)
    keys = [r.idempotency_key for r in runs]
    assert len(keys) == len(set(keys))  # no slot twice
    stamps = sorted(_epoch(r.idempotency_key) for r in runs)
    gaps = {round(b - a, 3) for a, b in zip(stamps, stamps[1:], strict=False)}
    assert gaps == {2.0}, f"a slot was skipped or doubled: {stamps}"
    assert len(out.read_text().splitlines()) == len(runs)  # one side effect per slot


def _epoch(key: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(key.split(":", 2)[2]).timestamp()


def test_two_schedulers_ticking_at_once_start_each_slot_once(client, tmp_path):
    out = tmp_path / "race.txt"
    name = "race-test"
    # Its slots start in an hour, so the live scheduler (which ticks with the real clock)
    # has none due while the two cores below tick at that hour: before cadence.due was
    # bounded, the live one hung on a start at t=1e6 and so never ran them by accident.
    sched = client.store.schedules.add(name=name, function="mark", spec="@every 1s",
                                       payload={"path": str(out)}, actor="test",
                                       start_after=time.time() + 3600)
    # Both cores see the same stale last_slot, as two schedulers would mid-failover.
    first, second = SchedulerCore(client), SchedulerCore(client)
    now = sched.last_slot + 3.0
    try:
        a = first.tick(now)
        client.store.schedules.advance(name, client.store.schedules.get(name).last_slot,
                                       sched.last_slot)  # rewind: the second saw old state
        b = second.tick(now)
    finally:
        client.store.schedules.remove(name, actor="test")
    assert a and sorted(a) == sorted(b)  # same slots -> same invocations, nothing new
    wait_until(lambda: all(client.get(i).done for i in a), 30)
    assert len(out.read_text().splitlines()) == len(a)
