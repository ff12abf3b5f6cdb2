"""The audit trail (fleet.audit_trail over fleet.store.audit), on SQLite and PostgreSQL:
the admin scope and the auditor role read it, nobody else; `serving` answers what served
an endpoint at a time, since when, set by whom and approved by whom; and `verify` names a
row edited or deleted after it was sealed."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from fleet.audit_trail import AuditTrail, parse_time
from fleet.errors import Forbidden, InvalidInput
from fleet.identity import Identity, expand
from fleet.store import Store

ADMIN = Identity("ann", expand(["admin"]))
AUDITOR = Identity("audrey", expand(["read"]), frozenset({"auditor"}))
READER = Identity("rita", expand(["read"]))


def versions(*weights):
    return {"versions": [{"model": "churn", "version": v, "app": f"churn-v{v}", "weight": w}
                         for v, w in weights]}


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def seal_all(store):
    return store.audit.seal(now=time.time() + 60)


def test_only_the_admin_scope_and_the_auditor_role_read_it(store):
    store.tokens.add(name="bob", scopes=["invoke"], roles=[], actor="ann")
    trail = AuditTrail(store)
    assert [e["action"] for e in trail.entries(AUDITOR)] == ["token.add"]
    assert trail.entries(ADMIN, resource="identity:bob")[0]["actor"] == "ann"
    for call in (lambda: trail.entries(READER), lambda: trail.verify(READER),
                 lambda: trail.serving(READER, "web")):
        with pytest.raises(Forbidden, match="auditor"):
            call()


def test_what_served_an_endpoint_at_a_time_and_who_approved_it(store):
    store.endpoints.set_routing("web", versions((1, 100)), actor="ann", reason="first deploy")
    t_first = time.time()
    time.sleep(0.05)
    ap = store.approvals.create(gate="promotion", target="rollout:ro-0123456789",
                                summary="promote v2", requested_by="ann", role="approver",
                                ttl_s=600)
    assert store.approvals.settle(ap.id, approve=True, actor="cat")
    store.endpoints.set_routing("web", versions((1, 0), (2, 100)), actor="ann",
                                reason="rollout ro-0123456789: promoted")
    trail = AuditTrail(store)
    then = trail.serving(AUDITOR, "web", at=t_first)
    assert then["versions"] == [{"model": "churn", "version": 1, "weight": 100}]
    assert then["set_by"] == "ann" and then["approvals"] == []
    now = trail.serving(AUDITOR, "web")
    assert [(v["version"], v["weight"]) for v in now["versions"]] == [(1, 0), (2, 100)]
    assert now["rollout"] == "ro-0123456789"
    assert [(a["gate"], a["decided_by"]) for a in now["approvals"]] == [("promotion", "cat")]
    with pytest.raises(InvalidInput, match="'at'"):
        trail.serving(AUDITOR, "web", at="yesterday-ish")


def test_verify_names_an_edited_and_a_deleted_row(store):
    for name in ("bob", "cat", "dee"):
        store.tokens.add(name=name, scopes=["read"], roles=[], actor="ann")
    assert seal_all(store) == 3
    store.tokens.add(name="eve", scopes=["read"], roles=[], actor="ann")
    assert seal_all(store) == 1  # a second seal chains onto the first
    trail = AuditTrail(store)
    good = trail.verify(ADMIN)
    assert good["ok"] and good["rows"] == 4 and good["seals"] == 2 and good["unsealed"] == 0
    ids = [e["id"] for e in trail.entries(ADMIN, limit=10)][::-1]
    with store.engines.write.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :i"),
                     {"i": ids[1]})
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[3]})
    bad = trail.verify(ADMIN)
    assert not bad["ok"]
    assert {(p.get("id"), p["problem"]) for p in bad["problems"]} == {
        (ids[1], "edited"), (ids[3], "deleted")}


def test_two_sealers_racing_seal_each_row_once(store):
    """A seal is chained outside the write lock (so the invoke path's commits never wait
    on its hashing); a sealer that another overtook between its read and its commit
    records nothing, and the trail stays whole."""
    for name in ("bob", "cat"):
        store.tokens.add(name=name, scopes=["read"], roles=[], actor="ann")
    slow = store.audit.prepare_seal(now=time.time() + 60)
    assert seal_all(store) == 2  # the other sealer commits first
    assert store.audit.commit_seal(slow) == 0
    store.tokens.add(name="dee", scopes=["read"], roles=[], actor="ann")
    assert seal_all(store) == 1
    report = AuditTrail(store).verify(ADMIN)
    assert report["ok"] and report["rows"] == 3 and report["seals"] == 2, report


def test_times_people_type():
    now = 1_800_000_000.0
    assert parse_time("2h", "since", now) == now - 7200
    assert parse_time("2027-01-15T08:00:00Z", "at") == parse_time("2027-01-15 08:00", "at")
    assert parse_time("1700000000", "at") == 1_700_000_000.0
    assert parse_time(None, "at") is None
    with pytest.raises(InvalidInput, match="'since'"):
        parse_time("last tuesday", "since")


def test_a_change_records_what_it_replaced(store):
    """Before and after in one row: a routing change keeps the table it replaced, a
    redeploy the options it replaced, a snooze the snooze before it, a removed schedule
    what it ran."""
    store.endpoints.set_routing("web", versions((1, 100)), actor="ann", reason="first")
    store.endpoints.set_routing("web", versions((1, 90), (2, 10)), actor="ann", reason="canary")
    store.endpoints.record_deployment(app="churn-v2", model="churn", version=2,
                                      options={"max_replicas": 1}, actor="ann")
    store.endpoints.record_deployment(app="churn-v2", model="churn", version=2,
                                      options={"max_replicas": 4}, actor="dee")
    store.drift.snooze("web", 2, actor="ann")
    store.drift.snooze("web", 0, actor="dee")
    store.schedules.add(name="nightly", function="train", spec="0 3 * * *",
                        payload={"experiment": "x"}, actor="ann")
    store.schedules.remove("nightly", actor="dee")
    trail = AuditTrail(store)

    def details(resource, action):
        return [e["detail"] for e in trail.entries(AUDITOR, resource=resource)
                if e["action"] == action][::-1]  # oldest first

    first, canary = details("endpoint:web", "endpoint.routing")
    assert first["before"] is None and first["routing"] == versions((1, 100))
    assert canary["before"] == versions((1, 100))
    assert canary["routing"]["versions"][1]["weight"] == 10
    redeploys = details("app:churn-v2", "serving.deploy")
    assert redeploys[0]["before"] is None
    assert redeploys[1]["before"]["options"] == {"max_replicas": 1}
    snoozed, lifted = details("drift:web", "drift.snooze")
    assert snoozed["before"]["snoozed_until"] is None
    assert lifted["before"]["snoozed_until"] == snoozed["until"]
    (removed,) = details("schedule:nightly", "schedule.remove")
    assert removed["before"]["function"] == "train" and removed["before"]["created_by"] == "ann"
