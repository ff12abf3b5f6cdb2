"""Serve apps from configuration: the suite's fleet.yaml lists an echo app (a builder in
tests/fixtures, with args) and one whose import path names nothing. `fleet up` must bring up
the first on Serve's HTTP, and log the second with the field that names it, without either
stopping the gateway."""

import httpx

from tests.integration.conftest import wait_until


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
