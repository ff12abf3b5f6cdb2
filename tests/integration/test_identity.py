"""One identity per action, whatever the entry point (issue 9, item 2), against the live
Fleet: bob cannot approve what bob set in motion over HTTP, the CLI, a Ray job or through
the Slack bot acting for him; a revoked token is refused once `fleet tokens revoke`
returns; an invoke token cannot move a protected alias through any function."""

from __future__ import annotations

import json
import os
import re
import uuid

import httpx
import pytest

from tests.integration.conftest import APPROVER, BOT, CAT, DEPLOYER, fleet_cli


def as_token(gateway_url, token, **headers):
    return httpx.Client(base_url=gateway_url, timeout=120,
                        headers={"Authorization": f"Bearer {token}", **headers})


@pytest.fixture
def bobs_request(client):
    """An approval request bob set in motion (the approver role is bob's too)."""
    return client.store.approvals.create(
        gate="alias", target=f"model:m-{uuid.uuid4().hex[:6]}@prod", summary="bob's change",
        requested_by="bob", role="approver", ttl_s=600)


def test_bob_cannot_approve_his_own_request_by_any_path(client, gateway_url, bobs_request):
    aid = bobs_request.id
    with as_token(gateway_url, APPROVER) as bob:
        r = bob.post(f"/v1/approvals/{aid}/approve")
        assert r.status_code == 403 and "cannot approve" in r.json()["detail"]

    cli = fleet_cli("approve", aid, check=False, env={**os.environ, "FLEET_TOKEN": APPROVER})
    assert cli.returncode == 2 and "cannot approve" in cli.stderr

    job = fleet_cli("invoke", "decide_approval", f"id={aid}", "decision=approve", "--via",
                    "job", "--json", check=False, env={**os.environ, "FLEET_TOKEN": APPROVER})
    rec = json.loads(job.stdout)
    assert rec["caller"] == "bob" and rec["status"] == "failed"
    assert "cannot approve" in rec["error"]["message"]

    with as_token(gateway_url, BOT, **{"X-Fleet-Act-As": "bob"}) as bot_for_bob:
        r = bot_for_bob.post(f"/v1/approvals/{aid}/approve")
        assert r.status_code == 403 and "cannot approve" in r.json()["detail"]

    assert client.store.approvals.get(aid).status == "pending"
    refusals = [a for a in client.store.audit_entries(target=f"approval:{aid}")
                if a["action"] == "approval.refused"]
    assert len(refusals) == 4 and {a["actor"] for a in refusals} == {"bob"}

    with as_token(gateway_url, BOT, **{"X-Fleet-Act-As": "cat"}) as bot_for_cat:
        r = bot_for_cat.post(f"/v1/approvals/{aid}/approve", json={"comment": "lgtm"})
        assert r.status_code == 200, r.text
        assert r.json()["decided_by"] == "cat"


def test_a_client_cannot_grant_itself_or_a_person_anything(gateway_url, bobs_request):
    with as_token(gateway_url, DEPLOYER, **{"X-Fleet-Act-As": "cat"}) as dee_as_cat:
        r = dee_as_cat.post(f"/v1/approvals/{bobs_request.id}/approve")
        assert r.status_code == 403 and "act_as" in r.json()["detail"]
    with as_token(gateway_url, BOT, **{"X-Fleet-Act-As": "mallory"}) as bot:
        r = bot.get("/v1/functions")
        assert r.status_code == 403 and "not a Fleet identity" in r.json()["detail"]
    with as_token(gateway_url, BOT, **{"X-Fleet-Act-As": "dee"}) as bot_for_dee:
        r = bot_for_dee.post(f"/v1/approvals/{bobs_request.id}/approve")  # dee has no role
        assert r.status_code == 403 and "role 'approver'" in r.json()["detail"]


def test_a_revoked_token_is_refused_as_soon_as_revoke_returns(gateway_url):
    name = f"eve-{uuid.uuid4().hex[:6]}"
    added = fleet_cli("tokens", "add", name, "--scopes", "read")
    token = re.search(r"(flt_\S+)", added.stdout).group(1)
    listed = fleet_cli("tokens", "--json")
    assert name in listed.stdout and token not in listed.stdout
    with as_token(gateway_url, token) as eve:
        assert eve.get("/v1/functions").status_code == 200
        fleet_cli("tokens", "revoke", name)
        r = eve.get("/v1/functions")
        assert r.status_code == 401


def test_an_invoke_token_cannot_move_a_protected_alias_through_any_path(client, gateway_url):
    model = f"guarded-{uuid.uuid4().hex[:6]}"
    for _ in range(2):
        client.store.models.register(model=model, artifact_uri="file:///nowhere/m.pt",
                                     flavor="torch-mlp", run_id=None, metrics={}, params={},
                                     lineage={}, actor="test")
    with as_token(gateway_url, DEPLOYER) as dee:
        r = dee.put(f"/v1/models/{model}/aliases/prod", json={"version": 2, "reason": "x"})
        assert r.status_code == 403
        r = dee.post("/v1/functions/move_alias/invoke",
                     json={"model": model, "alias": "prod", "version": 2, "reason": "x"})
        said = r.json()["error"]["message"]
        assert r.json()["status"] == "failed" and "'dee' may not alias" in said
        assert "'releaser'" in said  # the role that would allow it
    with as_token(gateway_url, CAT) as cat:  # an approver still needs the alias role to ask
        r = cat.post("/v1/functions/move_alias/invoke",
                     json={"model": model, "alias": "prod", "version": 2, "reason": "x"})
        assert r.json()["status"] == "failed"
    assert client.store.models.aliases(model) == {}
    assert not client.store.approvals.list(target=f"model:{model}@prod")
