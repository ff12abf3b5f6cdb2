"""Approvals over HTTP through the real FastAPI app and store (no Ray needed): a protected
alias asks for approval, the gate answers like Flagger's confirm webhook, and the
requester cannot approve their own request."""

import pytest
from fastapi.testclient import TestClient

from fleet.config import load_settings
from fleet.gateway import create_app
from fleet.store import open_store

ADMIN = "admin-token-0123456789"
BOB = "bob-approver-token-0123456789"


@pytest.fixture
def http(tmp_path):
    (tmp_path / "fleet.yaml").write_text(f"""
tokens:
  - {{name: admin, token: {ADMIN}, scopes: [admin]}}
  - {{name: bob, token: {BOB}, scopes: [invoke], roles: [approver]}}
approvals: {{protected_aliases: [champion]}}
""")
    settings = load_settings(tmp_path)
    store = open_store(settings.resolved_store_url)
    for _ in range(2):
        store.models.register(model="churn", artifact_uri="file:///m.pt", flavor="torch-mlp",
                              run_id=None, metrics={}, params={}, lineage={}, actor="admin")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_moving_a_protected_alias_waits_for_someone_elses_approval(http):
    r = http.put("/v1/models/churn/aliases/champion", headers=auth(ADMIN),
                 json={"version": 2, "reason": "better F1"})
    assert r.status_code == 202 and "fleet approve" in r.json()["detail"]
    aid = r.json()["approval"]["id"]
    assert http.get("/v1/models/churn", headers=auth(ADMIN)).json()["aliases"] == {}
    assert http.get(f"/v1/approvals/{aid}/gate").status_code == 403
    pending = http.get("/v1/approvals?status=pending", headers=auth(BOB)).json()["approvals"]
    assert [a["id"] for a in pending] == [aid]

    mine = http.post(f"/v1/approvals/{aid}/approve", headers=auth(ADMIN))
    assert mine.status_code == 403 and "cannot approve" in mine.json()["detail"]
    ok = http.post(f"/v1/approvals/{aid}/approve", headers=auth(BOB),
                   json={"comment": "checked the eval"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert http.get("/v1/models/churn", headers=auth(ADMIN)).json()["aliases"] == {
        "champion": 2}
    assert http.post(f"/v1/approvals/{aid}/gate").status_code == 200
    again = http.post(f"/v1/approvals/{aid}/reject", headers=auth(BOB))
    assert again.status_code == 409 and "decided once" in again.json()["detail"]
    kinds = [e["kind"] for e in http.get("/v1/outbox", headers=auth(BOB)).json()["events"]]
    assert kinds == ["approval.requested", "approval.decided"]


def test_an_unprotected_alias_moves_at_once(http):
    r = http.put("/v1/models/churn/aliases/challenger", headers=auth(ADMIN),
                 json={"version": 1, "reason": "try it"})
    assert r.status_code == 200 and r.json()["aliases"] == {"challenger": 1}


def flagger(http, checksum: str, token: str | None = ADMIN, kind: str = "confirm-promotion"):
    """Flagger's exact confirm-* payload (CanaryWebhookPayload)."""
    meta = {"fleet_token": token} if token else {}
    return http.post(f"/v1/gates/flagger/{kind}", json={
        "name": "podinfo", "namespace": "test", "phase": "WaitingPromotion",
        "checksum": checksum, "metadata": meta})


def test_the_flagger_gate_asks_once_per_revision_and_opens_when_approved(http):
    first = flagger(http, "6d8f9c")
    assert first.status_code == 403 and first.json()["status"] == "pending"
    again = flagger(http, "6d8f9c")  # Flagger polls: the same request, not a new one
    assert again.status_code == 403 and again.json()["id"] == first.json()["id"]
    aid = first.json()["id"]
    ap = http.get(f"/v1/approvals/{aid}", headers=auth(BOB)).json()
    assert ap["gate"] == "promotion" and ap["requested_by"] == "admin"
    assert "test/podinfo" in ap["summary"]
    assert http.post(f"/v1/approvals/{aid}/approve", headers=auth(BOB)).status_code == 200
    assert flagger(http, "6d8f9c").status_code == 200
    new_revision = flagger(http, "77aa01")
    assert new_revision.status_code == 403 and new_revision.json()["id"] != aid


def test_the_flagger_gate_needs_a_fleet_token_in_its_metadata(http):
    assert flagger(http, "1", token=None).status_code == 401
    assert flagger(http, "1", token="x" * 20).status_code == 401
    assert flagger(http, "1", kind="confirm-anything").status_code == 422
