"""Outbox delivery on SQLite and PostgreSQL: per-consumer state, claims under a lease, order
per subject with two notifiers, backoff with Retry-After, dead letters and replay."""

import threading
import time

import pytest
from sqlalchemy import text

from fleet.config import OutboxConfig
from fleet.store import Store
from fleet.store import outbox as outbox_mod

POLICY = OutboxConfig(max_attempts=3, base_backoff_s=0.05, max_backoff_s=0.2)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def emit(store, subject, kind="rollout.step", n=1):
    ids = []
    with store.engines.write.begin() as conn:
        for i in range(n):
            ids.append(outbox_mod.emit(conn, kind=kind, subject=subject, payload={"i": i}))
    return ids


def test_each_registered_consumer_gets_its_own_delivery_from_then_on(store):
    (before,) = emit(store, "rollout:a")
    assert store.outbox.register("webhook") is True
    assert store.outbox.register("webhook") is False
    (after,) = emit(store, "rollout:a")
    assert [e["id"] for e in store.outbox.pending("slack")] == [before, after]
    assert [e["id"] for e in store.outbox.pending("webhook")] == [after]
    got = store.outbox.claim("webhook", "w1")
    assert store.outbox.delivered("webhook", got[0]["id"], "w1")
    # delivering to one consumer leaves the other's untouched
    assert [e["id"] for e in store.outbox.pending("slack")] == [before, after]
    assert store.outbox.recent()[-1]["deliveries"] == {"slack": "pending",
                                                       "webhook": "delivered"}


def test_a_subjects_later_event_is_never_claimed_before_its_earlier_one(store):
    a1, a2, a3 = emit(store, "rollout:a", n=3)
    (b1,) = emit(store, "rollout:b")
    first = store.outbox.claim("slack", "n1", limit=1)
    assert [e["id"] for e in first] == [a1]
    # n2 may not take a2 while a1 is held, but may take the other subject
    assert [e["id"] for e in store.outbox.claim("slack", "n2")] == [b1]
    assert store.outbox.claim("slack", "n2") == []
    assert store.outbox.delivered("slack", a1, "n1")
    assert [e["id"] for e in store.outbox.claim("slack", "n2")] == [a2, a3]


def test_a_failure_backs_off_and_releases_the_subjects_later_events(store):
    a1, a2 = emit(store, "rollout:a", n=2)
    got = store.outbox.claim("slack", "n1")
    assert [e["id"] for e in got] == [a1, a2]
    out = store.outbox.failed("slack", a1, "n1", error="HTTP 503", policy=POLICY,
                              retry_after_s=0.3)
    assert out["state"] == "pending" and out["next_at"] >= time.time() + 0.25  # Retry-After
    assert store.outbox.release("slack", [a2], "n1") == 1
    assert store.outbox.claim("slack", "n2") == []  # a1 waits out its backoff; a2 after it
    time.sleep(0.35)
    again = store.outbox.claim("slack", "n2")
    assert [e["id"] for e in again] == [a1, a2]
    assert [e["attempts"] for e in again] == [2, 1]  # a released claim is not an attempt
    row = store.outbox.deliveries(state="claimed")[-1]
    assert row["event_id"] == a1 and row["last_error"] == "HTTP 503"


def test_after_max_attempts_it_is_dead_lettered_and_replay_brings_it_back(store):
    a1, a2 = emit(store, "rollout:a", n=2)
    for attempt in range(1, 4):
        (e,) = store.outbox.claim("slack", "n1", limit=1)
        assert e["id"] == a1 and e["attempts"] == attempt
        out = store.outbox.failed("slack", a1, "n1", error="channel_not_found", policy=POLICY)
        time.sleep(0.25)
    assert out["state"] == "dead"
    dead = store.outbox.deliveries(consumer="slack", state="dead")
    assert [d["event_id"] for d in dead] == [a1] and dead[0]["attempts"] == 3
    # a dead event no longer holds up the rest of its subject
    assert [e["id"] for e in store.outbox.claim("slack", "n1")] == [a2]
    assert store.outbox.replay(consumer="slack", actor="admin") == 1
    (e,) = store.outbox.claim("slack", "n1")
    assert e["id"] == a1 and e["attempts"] == 1
    with store.engines.read.connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_log WHERE action LIKE 'outbox.%' ORDER BY id"))]
    assert actions == ["outbox.dead_letter", "outbox.replay"]


class _Clock:
    """The outbox's clock, moved on by hand: a lease that lapses on a busy machine before
    the test looks cannot make it flaky."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


def test_an_expired_claim_passes_to_another_notifier_and_the_first_cannot_report(
        store, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(outbox_mod, "time", clock)
    (a1,) = emit(store, "rollout:a")
    assert store.outbox.claim("slack", "n1", lease_s=30)[0]["attempts"] == 1
    assert store.outbox.claim("slack", "n2") == []  # held
    clock.ahead = 31  # n1's lease has lapsed
    (e,) = store.outbox.claim("slack", "n2")
    assert e["attempts"] == 2  # the next holder knows it may already have been posted
    assert store.outbox.delivered("slack", a1, "n1") is False  # fenced out
    assert store.outbox.failed("slack", a1, "n1", error="x", policy=POLICY) is None
    assert store.outbox.delivered("slack", a1, "n2",
                                  thread={"channel": "C1", "ts": "1.2"}) is True
    (a2,) = emit(store, "rollout:a")
    (e,) = store.outbox.claim("slack", "n1")
    assert e["id"] == a2 and e["thread"] == {"channel": "C1", "ts": "1.2"}
    assert store.outbox.thread("slack", "rollout:a") == {"channel": "C1", "ts": "1.2"}


def test_two_notifiers_racing_deliver_every_event_once_in_subject_order(store):
    subjects = [f"rollout:{i}" for i in range(4)]
    for _ in range(5):
        for s in subjects:
            emit(store, s)
    seen: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def notifier(name: str) -> None:
        idle = 0
        while idle < 5:
            got = store.outbox.claim("slack", name, limit=3)
            idle = 0 if got else idle + 1
            for e in got:
                with lock:
                    seen.append((e["subject"], e["id"], name))
                assert store.outbox.delivered("slack", e["id"], name)
            time.sleep(0.002)

    threads = [threading.Thread(target=notifier, args=(n,)) for n in ("n1", "n2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(seen) == 20 and len({i for _, i, _ in seen}) == 20  # each once
    for s in subjects:
        ids = [i for subj, i, _ in seen if subj == s]
        assert ids == sorted(ids)  # in order per subject
    assert store.outbox.pending("slack") == []
