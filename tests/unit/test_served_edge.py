"""The edge of the Serve apps Fleet ships (fleet.serving.edge, in front of the LLM and RAG
apps): serving.endpoint_tokens guards every URL, an oversized or too-deep body never
reaches the handler, and a 422 names the field without quoting the body back (FastAPI's
default answer echoed a 2 MB body)."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.testclient import TestClient

from fleet.config import load_settings
from fleet.identity import Identities
from fleet.serving.edge import EdgeSettings, guard


class Ask(BaseModel):
    question: str
    k: int = 4


def render(status, title, detail, field):
    return json.dumps({"status": status, "detail": detail, "field": field}).encode(), \
        "application/json"


def app_with(edge: EdgeSettings) -> TestClient:
    api = FastAPI()

    @api.post("/ask")
    def ask(req: Ask) -> dict:
        return {"answer": req.question[:10]}

    @api.get("/models")
    def models() -> dict:
        return {"models": ["m"]}

    guard(api, edge, render)
    return TestClient(api)


@pytest.fixture
def edge():
    e = EdgeSettings()
    e.max_body_bytes = 64 * 1024
    return e


def test_a_body_over_the_limit_is_413_and_never_echoed(edge):
    big = "x" * (200 * 1024)
    r = app_with(edge).post("/ask", content=json.dumps({"question": big}),
                            headers={"content-type": "application/json"})
    assert r.status_code == 413 and big[:1000] not in r.text and len(r.content) < 1000

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * 16 * 1024

    r = app_with(edge).post("/ask", content=chunks())
    assert r.status_code == 413


def test_a_deep_body_and_a_bad_field_are_422_naming_the_field_without_the_input(edge):
    deep = "[" * 5000 + "]" * 5000
    r = app_with(edge).post("/ask", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    secret = "s" * 50_000
    r = app_with(edge).post("/ask", json={"question": "q", "k": secret})
    assert r.status_code == 422 and r.json()["field"] == "k"
    assert secret[:100] not in r.text and len(r.content) < 2000
    assert app_with(edge).post("/ask", json={"question": "hello there"}).json() == {
        "answer": "hello ther"}


def test_endpoint_tokens_guard_every_url_of_the_app(tmp_path, edge):
    (tmp_path / "fleet.yaml").write_text("tokens:\n"
                                         "  - {name: ann, token: ann-token-0123456789}\n"
                                         "  - {name: bob, token: bob-token-0123456789}\n")
    settings = load_settings(tmp_path)
    edge.name, edge.allowed = "llm", ("ann",)
    edge.identities = Identities(settings)
    client = app_with(edge)
    for method, path, body in (("GET", "/models", None), ("POST", "/ask", {"question": "q"})):
        assert client.request(method, path, json=body).status_code == 401
        as_bob = {"Authorization": "Bearer bob-token-0123456789"}
        assert client.request(method, path, json=body, headers=as_bob).status_code == 403
        as_ann = {"Authorization": "Bearer ann-token-0123456789"}
        assert client.request(method, path, json=body, headers=as_ann).status_code == 200


def test_a_versions_own_url_is_closed_once_endpoints_are_guarded(tmp_path):
    """A URL that skips the router (models/NAME/vN) follows endpoint_tokens: open while
    nothing is guarded, closed to everyone (naming the fix) once an endpoint is, and open
    to the identities listed under models/NAME, models/* or '*'."""
    from fleet.serving.edge import EdgeSettings

    def edge_for(tokens: str) -> EdgeSettings:
        home = tmp_path / str(len(list(tmp_path.iterdir())))
        home.mkdir()
        (home / "fleet.yaml").write_text(
            "tokens:\n  - {name: ann, token: ann-token-0123456789}\n"
            f"serving: {{endpoint_tokens: {tokens}}}\n")
        edge = EdgeSettings()
        edge.configure(load_settings(home), "models/churn", closed_unless_listed=True)
        return edge

    ann = "Bearer ann-token-0123456789"
    assert edge_for("{}").refusal(None) is None
    closed = edge_for("{web: [ann]}").refusal(ann)
    assert closed.status == 403 and "models/churn" in closed.detail
    assert "endpoint_tokens" in closed.detail
    for key in ("models/churn", "'models/*'", "'*'"):
        edge = edge_for(f"{{web: [bob], {key}: [ann]}}")
        assert edge.refusal(ann) is None and edge.refusal(None).status == 401
