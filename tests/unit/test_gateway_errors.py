"""The gateway's refusals, through the real FastAPI app (no Ray needed: each is decided
before anything runs). The same cases run against the live gateway in integration."""

import pytest
from fastapi.testclient import TestClient

from fleet.config import load_settings
from fleet.gateway import create_app

ADMIN = "admin-token-0123456789"
READER = "reader-token-0123456789"
INVOKER = "invoker-token-0123456789"
OPERATOR = "operator-token-0123456789"


@pytest.fixture
def http(tmp_path):
    (tmp_path / "fleet.yaml").write_text(f"""
tokens:
  - {{name: admin, token: {ADMIN}, scopes: [admin]}}
  - {{name: reader, token: {READER}, scopes: [read]}}
  - {{name: ivy, token: {INVOKER}, scopes: [invoke]}}
  - {{name: otto, token: {OPERATOR}, scopes: [invoke], roles: [operator]}}
gateway: {{max_body_bytes: 2048}}
""")
    app = create_app(load_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def auth(token=ADMIN):
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401_with_a_challenge(http):
    r = http.get("/v1/functions")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/problem+json"
    assert "Authorization: Bearer" in r.json()["detail"]


def test_wrong_token_is_401(http):
    r = http.get("/v1/functions", headers=auth("x" * 24))
    assert r.status_code == 401 and "not valid" in r.json()["detail"]


def test_read_token_cannot_invoke(http):
    assert http.get("/v1/functions", headers=auth(READER)).status_code == 200
    r = http.post("/v1/functions/hello/invoke", headers=auth(READER), json={})
    assert r.status_code == 403 and "'invoke' scope" in r.json()["detail"]


def test_unknown_function_is_404(http):
    r = http.post("/v1/functions/nope/invoke", headers=auth(), json={})
    assert r.status_code == 404 and "fleet functions" in r.json()["detail"]


def test_schema_violation_is_422_naming_the_field(http):
    r = http.post("/v1/functions/validate_data/invoke", headers=auth(),
                  json={"path": "x.csv", "min_rows": "many", "bogus": 1})
    body = r.json()
    assert r.status_code == 422
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"min_rows", "bogus", "path"}  # x.csv is outside the data roots
    assert "integer" in fields["min_rows"]["message"] and fields["bogus"]["fix"]
    assert "outside the data roots" in fields["path"]["message"]


def test_invalid_json_is_422_with_the_reason(http):
    r = http.post("/v1/functions/hello/invoke", headers={**auth(),
                  "content-type": "application/json"}, content=b"{nope")
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]


def test_oversized_body_is_413_before_it_is_read(http):
    r = http.post("/v1/functions/hello/invoke", headers=auth(), content=b"x" * 5000)
    assert r.status_code == 413 and "5000 bytes" in r.json()["detail"]


def test_wait_out_of_range_names_the_parameter(http):
    r = http.post("/v1/functions/hello/invoke?wait=9999", headers=auth(), json={})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "wait"


def test_function_list_has_json_schemas_and_openapi_is_served(http):
    fns = {f["name"]: f for f in http.get("/v1/functions", headers=auth()).json()["functions"]}
    assert fns["validate_data"]["input_schema"]["required"] == ["path"]
    assert "/v1/functions/{name}/invoke" in http.get("/openapi.json").json()["paths"]


def test_unknown_invocation_is_404_and_health_is_open(http):
    assert http.get("/v1/invocations/inv_x", headers=auth()).status_code == 404
    assert http.get("/healthz").json()["status"] == "ok"


def test_schedules_need_a_role_and_validate_input(http):
    """Adding or removing a schedule: the admin, or a role that grants `schedule` on the
    function (the default operator role); the invoke scope alone is refused, naming it."""
    body = {"name": "n1", "function": "hello", "schedule": "@every 5s", "input": {"x": 1}}
    assert http.post("/v1/schedules", headers=auth(READER), json=body).status_code == 403
    r = http.post("/v1/schedules", headers=auth(INVOKER), json={**body, "input": {}})
    assert r.status_code == 403 and "'operator'" in r.json()["detail"]
    assert http.post("/v1/schedules", headers=auth(OPERATOR),
                     json={**body, "name": "n0", "input": {}}).status_code == 201
    assert http.delete("/v1/schedules/n0", headers=auth(INVOKER)).status_code == 403
    assert http.delete("/v1/schedules/n0", headers=auth(OPERATOR)).status_code == 204
    r = http.post("/v1/schedules", headers=auth(), json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "x"
    body["input"] = {"name": "cron"}
    assert http.post("/v1/schedules", headers=auth(), json=body).status_code == 201
    listed = http.get("/v1/schedules", headers=auth(READER)).json()["schedules"]
    assert [s["name"] for s in listed] == ["n1"]
    assert http.delete("/v1/schedules/n1", headers=auth()).status_code == 204


def test_hostile_bodies_are_4xx_never_5xx(http):
    """Issue 26, finding 7: JSON nested over 1,000 deep on invoke was a 500, and so was an
    oversized chunked body (the fast path took the size limit for an internal error)."""
    deep = "[" * 1000 + "]" * 1000  # under the size limit, 1,000 deep
    r = http.post("/v1/functions/hello/invoke", headers=auth(), content=deep)
    assert r.status_code == 422, r.text
    assert "nests arrays and objects" in r.json()["detail"] and "[[[" not in r.text

    def chunks():  # no Content-Length: the limit is found while the body arrives
        for _ in range(8):
            yield b'{"name": "' + b"x" * 500
    r = http.post("/v1/functions/hello/invoke", headers=auth(), content=chunks())
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/payload-too-large")


def test_an_alias_version_the_store_cannot_hold_is_a_422(http):
    """Found by the admin's schemathesis run: a version of -2**87 reached the store (500)."""
    for version in (-251167297544476894139777024, 2**63, 0, True, "3"):
        r = http.put("/v1/models/churn/aliases/champion", headers=auth(),
                     json={"version": version, "reason": "fuzz"})
        assert r.status_code == 422, (version, r.text)
        assert r.json()["errors"][0]["field"] == "version"


def test_outbox_event_ids_are_positive_integers_the_store_can_hold(http):
    """Issue 26, finding 7: `[99999999999999999999]` on replay and release overflowed the
    database into a 500, and `[false]` was taken as an id."""
    for path, extra in (("/v1/outbox/slack/replay", {}),
                        ("/v1/outbox/slack/release", {"holder": "h"})):
        for ids in ([99999999999999999999], [False], [0], ["7"]):
            r = http.post(path, headers=auth(), json={"event_ids": ids, **extra})
            assert r.status_code == 422, (path, ids, r.text)
            assert r.json()["errors"][0]["field"].startswith("event_ids")
