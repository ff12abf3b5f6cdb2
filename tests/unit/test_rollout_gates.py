"""The rollout controller's gates on a real store (SQLite and PostgreSQL), without Ray: a
start, step or promotion gate waits for an approval by someone else, a rejected or expired
one rolls back, two approvers make one decision, a protected alias and a manual promote
wait for theirs, and no action skips a pending gate. The steps themselves:
tests/unit/test_rollout_controller.py."""

from __future__ import annotations

import threading
import time

import pytest

from fleet.errors import Conflict, Forbidden
from tests.support.rollout_controller import (
    Clock,
    decide,
    make,
    rollout_store,
    start,
    weights,
)


@pytest.fixture
def store(store_url):
    s = rollout_store(store_url)
    yield s
    s.close()


def test_a_start_gate_waits_for_an_approval_by_someone_else(store):
    clock = Clock()
    rid = start(store, gates=["start"])
    ctl = make(store, clock)
    ctl.tick()
    ro = store.rollouts.get(rid)
    assert ro.status == "awaiting_approval" and weights(store) == {"churn:1": 100}
    aid = ro.state["approval_id"]
    with pytest.raises(Forbidden, match="cannot approve"):
        decide(store, aid, "ann", {"approver"}, approve=True)
    with pytest.raises(Forbidden, match="lacks the role 'approver'"):
        decide(store, aid, "bob", set(), approve=True)
    ctl.tick()
    assert store.rollouts.get(rid).status == "awaiting_approval"
    decide(store, aid, "cat", {"approver"}, approve=True)
    with pytest.raises(Conflict, match="already decided: approved by cat"):
        decide(store, aid, "dan", {"approver"}, approve=False)
    ctl.tick()
    ro = store.rollouts.get(rid)
    assert ro.status == "progressing" and weights(store) == {"churn:2": 5, "churn:1": 95}
    refusals = [a["detail"]["reason"] for a in store.audit_entries(target=f"approval:{aid}")
                if a["action"] == "approval.refused"]
    assert sorted(refusals) == ["already decided", "missing role approver", "self-approval"]


def test_a_rejected_or_expired_approval_rolls_back(store):
    clock = Clock()
    rid = start(store, gates=["step"], approval_ttl_s=0.05)
    ctl = make(store, clock)
    ctl.tick()
    clock.t += 11
    ctl.tick()
    ro = store.rollouts.get(rid)
    assert ro.status == "awaiting_approval" and ro.state["gate"] == "step"
    time.sleep(0.1)  # approvals expire on the wall clock
    with pytest.raises(Conflict, match="expired"):
        decide(store, ro.state["approval_id"], "cat", {"approver"}, approve=True)
    ctl.tick()
    assert store.rollouts.get(rid).status == "rolling_back"
    assert weights(store) == {"churn:1": 100}


def test_two_approvers_at_once_make_one_decision(store):
    ap = store.approvals.create(gate="promotion", target="rollout:x", summary="s",
                                requested_by="ann", role="approver", ttl_s=60)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide_as(who):
        barrier.wait()
        try:
            decide(store, ap.id, who, {"approver"}, approve=True)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide_as, args=(w,)) for w in ("bob", "cat")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    decided = [a for a in store.audit_entries(target=f"approval:{ap.id}")
               if a["action"] == "approval.approved"]
    assert len(decided) == 1


def test_a_protected_alias_moves_only_when_someone_else_approves(store):
    for _ in range(2):
        store.models.register(model="churn", artifact_uri="file:///m.pt", flavor="torch-mlp",
                              run_id=None, metrics={}, params={}, lineage={}, actor="ann")
    ap = store.approvals.get(store.models.request_alias_move(
        model="churn", alias="champion", version=2, actor="ann", reason="better F1",
        role="approver", ttl_s=60).id)
    assert ap.gate == "alias" and store.models.aliases("churn") == {}
    with pytest.raises(Forbidden, match="cannot approve"):
        decide(store, ap.id, "ann", {"approver"}, approve=True)
    assert store.models.aliases("churn") == {}
    decide(store, ap.id, "bob", {"approver"}, approve=True)
    assert store.models.aliases("churn") == {"champion": 2}
    moved = store.models.alias_history("churn")[-1]
    assert moved["actor"] == "ann" and "approved by bob" in moved["reason"]


def test_a_manual_promote_still_passes_the_promotion_gate(store):
    clock = Clock()
    rid = start(store, gates=["promotion"])
    ctl = make(store, clock)
    ctl.tick()
    ro = ctl.command(store.rollouts.get(rid), "promote", actor="ann")
    assert ro.status == "awaiting_approval" and ro.state["gate"] == "promotion"
    with pytest.raises(Conflict, match="already waits for promotion approval"):
        ctl.command(ro, "promote", actor="ann")
    assert weights(store)["churn:2"] == 5  # nothing promoted yet
    decide(store, ro.state["approval_id"], "cat", {"approver"}, approve=True)
    ctl.tick()
    assert store.rollouts.get(rid).status == "promoting" and weights(store)["churn:2"] == 100


# -- deadlines (issue 9, item 3) ----------------------------------------------------------------


@pytest.mark.parametrize("gate", ["start", "step", "promotion"])
def test_no_action_skips_a_pending_gate_in_any_state(store, gate):
    """Issue 26, finding 2: with `gates: [start]` pending, a promote from the starter (or
    from anyone) took the rollout to 100% and left the approval pending. Walk every action
    from the waiting state and from a pause taken while waiting: whatever would move
    traffic is refused naming the approval; traffic stays where the gate holds it."""
    clock = Clock()
    rid = start(store, gates=[gate], steps=[5, 100])
    ctl = make(store, clock)
    for _ in range(10):  # to the gate: at once for start, after a good check otherwise
        ctl.tick()
        clock.t += 11
        if store.rollouts.get(rid).status == "awaiting_approval":
            break
    ro = store.rollouts.get(rid)
    assert ro.status == "awaiting_approval" and ro.state["gate"] == gate
    aid, held = ro.state["approval_id"], weights(store)
    for who in ("ann", "bob"):  # the starter, and someone else
        with pytest.raises(Conflict, match=aid):
            ctl.command(store.rollouts.get(rid), "promote", actor=who)
    assert weights(store) == held and store.approvals.get(aid).status == "pending"
    ro = ctl.command(store.rollouts.get(rid), "pause", actor="ann")
    assert ro.status == "paused"
    with pytest.raises(Conflict, match=aid):
        ctl.command(ro, "promote", actor="ann")
    with pytest.raises(Conflict, match="'pause' works only when"):
        ctl.command(ro, "pause", actor="ann")
    ro = ctl.command(ro, "resume", actor="ann")
    assert ro.status == "awaiting_approval" and weights(store) == held
    clock.t += 60
    ctl.tick()  # nothing moves while the approval is pending
    assert store.rollouts.get(rid).status == "awaiting_approval" and weights(store) == held
    assert store.approvals.get(aid).status == "pending"
    ro = ctl.command(store.rollouts.get(rid), "abort", actor="ann")  # giving up is allowed
    assert ro.status in ("rolling_back", "rolled_back")
