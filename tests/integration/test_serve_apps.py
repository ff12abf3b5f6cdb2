"""Serve apps from configuration: the suite's fleet.yaml lists an echo app (a builder in
tests/fixtures, with args) and one whose import path names nothing. `fleet up` must bring up
the first on Serve's HTTP, and log the second with the field that names it, without either
stopping the gateway."""

import json

import httpx
import pytest

from tests.integration.conftest import fleet_cli, wait_until


def test_a_configured_app_answers_at_its_route_with_its_args(client, fleet_home, http):
    url = f"http://127.0.0.1:{client.settings.serving.serve_port}/echo/hello"

    def answers():
        try:
            r = httpx.get(url, timeout=10)
        except httpx.HTTPError:
            return None
        return r if r.status_code == 200 else None

    r = wait_until(answers, timeout_s=120, every_s=1)
    assert r.json() == {"greeting": "hi", "path": "/echo/hello"}
    # the app that could not load is named in the server's log, with the fix
    server_log = fleet_home / "logs" / "server.log"
    line = wait_until(lambda: next((x for x in server_log.read_text().splitlines()
                                    if "serving.apps[1] ('broken') did not start" in x), None),
                      timeout_s=30)
    assert "module 'fleet_serve_echo' has no 'missing'" in line
    assert http.get("/healthz").status_code == 200  # the gateway came up regardless


def test_the_servers_start_brings_a_lost_app_back(client):
    """Serve's apps die with the cluster; what the server runs at start brings them back,
    and the broken entry fails alone."""
    from ray import serve

    from fleet.serving import apps

    serve.delete("echo")
    url = f"http://127.0.0.1:{client.settings.serving.serve_port}/echo/"
    assert httpx.get(url, timeout=10).status_code == 404
    apps.start(client.settings)
    assert httpx.get(url, timeout=10).json()["greeting"] == "hi"


def test_fleet_status_lists_every_app_and_why_one_failed(client):
    """`fleet up` waited for the apps; `fleet status` lists each with its state, a failed
    one with the reason and the fix (issue 29), as JSON and as text."""
    st = json.loads(fleet_cli("status", "--json").stdout)
    assert st["apps"]["echo"] == {"state": "running", "route_prefix": "/echo"}
    broken = st["apps"]["broken"]
    assert broken["state"] == "failed"
    assert "module 'fleet_serve_echo' has no 'missing'" in broken["reason"]
    assert "function_paths" in broken["fix"]
    text = " ".join(fleet_cli("status").stdout.split())
    assert "app broken failed" in text and "has no 'missing'" in text and "fix: Check" in text


def test_an_app_whose_replicas_fail_answers_503_with_the_cause(client, tmp_path):
    """The LLM app with a model Fleet cannot load: Serve says only that the deployment
    failed; Fleet finds the replica's own error, records it, and puts a stand-in on the
    route that answers 503 naming the app, the reason and the fix, not a 404. A RAG app
    that generates with it, asked through `fleet ask`'s code, names the same cause."""
    from ray import serve

    from fleet.cli.rag import print_answer
    from fleet.config import clear_cache, load_settings
    from fleet.errors import FleetError
    from fleet.rag import ingest
    from fleet.serving import app_states
    from fleet.serving.apps import run_configured

    port = client.settings.serving.serve_port
    (tmp_path / "fleet.yaml").write_text(
        f"serving: {{serve_port: {port}, apps: ["
        "{name: badllm, import_path: 'serve_apps.llm:build', route_prefix: /badllm, "
        "args: {max_replicas: 1, llm: {model: NoSuchModel-1B}}}, "
        "{name: badrag, import_path: 'serve_apps.rag:build', route_prefix: /badrag, "
        "args: {name: badrag, max_replicas: 1, llm_app: null, llm: {backend: openai, "
        f"url: 'http://127.0.0.1:{port}/badllm/v1', model: m}}}}}}]}}\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ports.md").write_text("The router listens on port 8090.\n")
    ingest(client.settings, "badkb", (tmp_path / "docs").as_uri(), chunk_size=300,
           chunk_overlap=30)
    clear_cache()
    settings = load_settings(tmp_path)
    try:
        started, failed = run_configured(settings)
        assert started == ["badrag"] and "NoSuchModel-1B" in failed["badllm"]
        state = app_states.read(settings)["badllm"]
        assert state.state == "failed"
        assert state.reason.startswith("'NoSuchModel-1B' is not a model Fleet can run locally")
        assert "llm.backend to openai" in state.fix
        url = f"http://127.0.0.1:{port}/badllm/v1/chat/completions"
        r = wait_until(lambda: (x := httpx.post(url, json={}, timeout=10)).status_code == 503
                       and x, timeout_s=30)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["app"] == "badllm" and problem["reason"] == state.reason
        assert problem["detail"].startswith("The badllm app did not start: 'NoSuchModel-1B'")
        assert "Deployment(" not in problem["detail"] and "Traceback" not in problem["detail"]
        with pytest.raises(FleetError) as err:
            print_answer(settings, "Which port does the router listen on?", "badkb",
                         app_name="badrag", answer="generate")
        said = str(err.value)
        assert "The badllm app did not start: 'NoSuchModel-1B'" in said, said
        assert "llm.backend to openai" in said and "Traceback" not in said
    finally:
        serve.delete("badllm")
        serve.delete("badrag")
        clear_cache()
