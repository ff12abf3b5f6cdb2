"""What is whose (issue 26, findings 3 and 6), against the live Fleet: an Idempotency-Key
belongs to whoever sent it, so the same key from two identities is two invocations and a
weak token cannot take the key of an approval's action first; an invocation's input and
result are its caller's (the admin scope and the auditor role see all); and only its
caller, an admin or an operator cancels it."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.conftest import ADMIN, CAT, DEPLOYER, READER, wait_until


def as_token(gateway_url, token):
    return httpx.Client(base_url=gateway_url, timeout=120,
                        headers={"Authorization": f"Bearer {token}"})


def test_the_same_key_from_two_identities_is_two_invocations(gateway_url):
    key = f"order-{uuid.uuid4().hex[:8]}"
    with as_token(gateway_url, DEPLOYER) as dee, as_token(gateway_url, ADMIN) as admin:
        first = dee.post("/v1/functions/hello/invoke?wait=60", json={"name": "dee"},
                         headers={"Idempotency-Key": key}).json()
        theirs = admin.post("/v1/functions/hello/invoke?wait=60", json={"name": "admin"},
                            headers={"Idempotency-Key": key}).json()
        again = dee.post("/v1/functions/hello/invoke?wait=60", json={"name": "someone else"},
                         headers={"Idempotency-Key": key}).json()
    assert theirs["id"] != first["id"] and theirs["caller"] == "admin"
    assert theirs["result"] == {"greeting": "Hello, admin!"}
    assert again["id"] == first["id"]  # a repeat by its own sender is still the same one
    assert first["idempotency_key"] == theirs["idempotency_key"] == key  # shown as sent


def test_a_weak_token_cannot_take_an_approved_actions_key_first(client, gateway_url):
    ap = client.store.approvals.create(
        gate="action", target="endpoint:none", summary="say hello once approved",
        requested_by="admin", role="approver", ttl_s=600,
        payload={"function": "hello", "input": {"name": "approved"}})
    with as_token(gateway_url, DEPLOYER) as dee:
        taken = dee.post("/v1/functions/hello/spawn", json={"name": "dee"},
                         headers={"Idempotency-Key": f"approval:{ap.id}"})
        assert taken.status_code == 202
    with as_token(gateway_url, CAT) as cat:
        assert cat.post(f"/v1/approvals/{ap.id}/approve").status_code == 200
    ran = wait_until(lambda: [i for i in client.list(via="approval", function="hello",
                                                     limit=50)
                              if i.payload == {"name": "approved"} and i.done], timeout_s=60)
    assert ran[0].caller == "admin" and ran[0].status.value == "succeeded"
    assert ran[0].id != taken.json()["id"]


def test_a_read_token_sees_its_own_inputs_and_results_only(gateway_url):
    secret = f"s3cret-{uuid.uuid4().hex[:6]}"
    with as_token(gateway_url, ADMIN) as admin, as_token(gateway_url, READER) as reader:
        mine = admin.post("/v1/functions/hello/invoke?wait=60", json={"name": secret}).json()
        seen = reader.get(f"/v1/invocations/{mine['id']}").json()
        listed = reader.get("/v1/invocations", params={"function": "hello",
                                                       "limit": 200}).json()["invocations"]
        whole = admin.get(f"/v1/invocations/{mine['id']}").json()
    assert seen["status"] == "succeeded" and seen["caller"] == "admin"
    assert seen["input"] is None and seen["result"] is None
    assert secret not in str(listed) and any(r["id"] == mine["id"] for r in listed)
    assert whole["input"] == {"name": secret} and secret in whole["result"]["greeting"]


def test_only_the_caller_an_admin_or_an_operator_cancels(gateway_url):
    with as_token(gateway_url, ADMIN) as admin, as_token(gateway_url, DEPLOYER) as dee:
        long_one = admin.post("/v1/functions/sleep/spawn", json={"seconds": 120}).json()
        refused = dee.post(f"/v1/invocations/{long_one['id']}/cancel")
        assert refused.status_code == 403
        assert "dee" in refused.json()["detail"] and "operator" in refused.json()["detail"]
        deez = dee.post("/v1/functions/sleep/spawn", json={"seconds": 120}).json()
        assert dee.post(f"/v1/invocations/{deez['id']}/cancel").status_code == 200
        assert admin.post(f"/v1/invocations/{long_one['id']}/cancel").status_code == 200


def test_the_invoke_scope_alone_cannot_change_what_serves(gateway_url, tmp_path):
    """cat has the invoke scope and the approver role, but no role that grants deploy,
    rollout or knowledge-base writes: each is refused before anything runs, naming the role
    that would allow it. A malformed request is still a 422, and reading is not refused."""
    with as_token(gateway_url, CAT) as cat:
        for function, body, role in (
                ("rollout", {"action": "start", "endpoint": "churn", "model": "churn:1"},
                 "deployer"),
                ("rollout", {"action": "abort", "endpoint": "churn"}, "deployer"),
                ("deploy", {"model": "churn:1", "endpoint": "churn"}, "deployer"),
                ("rag_ingest", {"knowledge_base": "team-docs", "source": str(tmp_path)},
                 "kb-writer")):  # a folder under a data root: only the role is missing
            r = cat.post(f"/v1/functions/{function}/invoke?wait=30", json=body)
            assert r.status_code == 403, (function, r.text)
            assert f"'{role}'" in r.json()["detail"] and "cat" in r.json()["detail"]
        bad = cat.post("/v1/functions/rollout/invoke", json={"action": "start"})
        assert bad.status_code == 422  # no endpoint: the caller's mistake first
        status = cat.post("/v1/functions/rollout/invoke?wait=30",
                          json={"action": "status", "endpoint": "no-such-endpoint"})
        assert status.status_code != 403, status.text
        snooze = cat.post("/v1/drift/no-such-endpoint/snooze", json={"hours": 1})
        assert snooze.status_code == 403 and "'deployer'" in snooze.json()["detail"]
