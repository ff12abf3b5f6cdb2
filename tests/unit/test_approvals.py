"""The approval policy (fleet.approvals) on a real store: nobody decides what they set in
motion, an expired request stays undecided even in a race, and alias moves need a role
(releaser, or the admin)."""

from __future__ import annotations

import time

import pytest

from fleet.approvals import Approvals
from fleet.config import load_settings
from fleet.errors import Conflict, Forbidden
from fleet.identity import Identity, expand
from fleet.rollouts.controller import Controller
from fleet.store import Store
from tests.unit.test_rollout_controller import Clock, arm, start


def person(name, roles=("approver",), scopes=("invoke",)) -> Identity:
    return Identity(name, expand(scopes), frozenset(roles))


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "fleet.yaml").write_text("approvals: {protected_aliases: [champion]}\n")
    return load_settings(tmp_path)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    s.endpoints.set_routing("web", {"versions": [{**arm(1), "weight": 100}]},
                            actor="ann", reason="first deploy")
    for _ in range(2):
        s.models.register(model="churn", artifact_uri="file:///m.pt", flavor="torch-mlp",
                          run_id=None, metrics={}, params={}, lineage={}, actor="ann")
    yield s
    s.close()


def test_a_manual_promote_asks_in_the_promoters_name_and_neither_party_decides(store,
                                                                               settings):
    clock = Clock()
    rid = start(store, gates=["promotion"])  # started by ann
    ctl = Controller(store, analysis={}, retire=lambda app: None, clock=clock)
    ctl.tick()
    ro = ctl.command(store.rollouts.get(rid), "promote", actor="bob")
    ap = store.approvals.get(ro.state["approval_id"])
    assert ap.requested_by == "bob"  # before: recorded as ann's, so bob could approve it
    service = Approvals(store, settings)
    for who in ("bob", "ann"):
        with pytest.raises(Forbidden, match="cannot approve"):
            service.decide(person(who), ap.id, approve=True)
    assert store.approvals.get(ap.id).status == "pending"
    assert service.decide(person("cat"), ap.id, approve=True).decided_by == "cat"


def test_an_expired_request_cannot_be_decided_even_when_the_check_raced_the_expiry(
        store, settings):
    ap = store.models.request_alias_move(model="churn", alias="champion", version=2,
                                         actor="ann", reason="better", role="approver",
                                         ttl_s=0.2)
    checked_at = time.time()  # the policy's check sees a request that has not expired...
    service = Approvals(store, settings, clock=lambda: checked_at)
    time.sleep(0.3)  # ...but it expires before the decision is written
    with pytest.raises(Conflict, match="expired"):
        service.decide(person("bob"), ap.id, approve=True)
    assert store.approvals.get(ap.id).status == "expired"
    assert store.models.aliases("churn") == {}  # the gated move never happened


def test_moving_an_alias_needs_a_role_and_a_protected_one_needs_an_approval(store, settings):
    service = Approvals(store, settings)
    for alias in ("champion", "staging"):
        with pytest.raises(Forbidden, match="'dee' may not alias model:churn.*'releaser'"):
            service.move_alias(model="churn", alias=alias, version=2, reason="r",
                               who=person("dee", roles=("deployer",)))
    releaser = person("rae", roles=("releaser",))
    assert service.move_alias(model="churn", alias="staging", version=2, reason="r",
                              who=releaser)["moved"]
    admin = person("ann", roles=(), scopes=("admin",))
    out = service.move_alias(model="churn", alias="champion", version=2, reason="r", who=admin)
    assert not out["moved"] and "champion" not in store.models.aliases("churn")
    assert service.move_alias(model="churn", alias="staging", version=1, reason="r",
                              who=admin)["moved"]
    assert store.models.aliases("churn") == {"staging": 1}
    history = store.models.alias_history("churn")
    assert [h["actor"] for h in history][-2:] in (["rae", "ann"], ["ann", "rae"])


def test_a_person_acting_through_a_client_is_still_themselves(store, settings):
    ap = store.models.request_alias_move(model="churn", alias="champion", version=2,
                                         actor="bob", reason="r", role="approver", ttl_s=60)
    via_bot = Identity("bob", expand(["invoke"]), frozenset({"approver"}),
                       on_behalf_of="slack-bot")
    with pytest.raises(Forbidden, match="cannot approve"):
        Approvals(store, settings).decide(via_bot, ap.id, approve=True)
    cat = Identity("cat", expand(["invoke"]), frozenset({"approver"}), on_behalf_of="slack-bot")
    Approvals(store, settings).decide(cat, ap.id, approve=True)
    entry = [a for a in store.audit_entries(target=f"approval:{ap.id}")
             if a["action"] == "approval.approved"][0]
    assert entry["actor"] == "cat" and entry["detail"]["on_behalf_of"] == "slack-bot"
