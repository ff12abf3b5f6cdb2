"""The audit trail through its entry points, against the live Fleet: `GET /v1/audit` for
the admin and refused for a read token; `fleet audit --resource`, `fleet audit serving
ENDPOINT --at TIME` and `fleet audit verify`, which passes while nobody edits the log (the
scheduler seals new rows every tick)."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from tests.integration.conftest import ADMIN, READER, fleet_cli, wait_until


def test_the_trail_over_http_and_the_cli(client, gateway_url):
    name = f"ep-{uuid.uuid4().hex[:6]}"
    arm = {"model": "churn", "app": "churn-v1", "weight": 100}
    client.store.endpoints.set_routing(name, {"versions": [{**arm, "version": 1}]},
                                       actor="admin", reason="first deploy")
    before = time.time()
    time.sleep(1.1)
    client.store.endpoints.set_routing(name, {"versions": [{**arm, "version": 2}]},
                                       actor="admin", reason="rollout ro-00aa11bb22: promoted")
    with httpx.Client(base_url=gateway_url, timeout=60) as http:
        auth = {"Authorization": f"Bearer {ADMIN}"}
        rows = http.get("/v1/audit", params={"resource": f"endpoint:{name}"},
                        headers=auth).json()["entries"]
        refused = http.get("/v1/audit", headers={"Authorization": f"Bearer {READER}"})
    assert [r["detail"]["reason"] for r in rows] == ["rollout ro-00aa11bb22: promoted",
                                                     "first deploy"]
    assert refused.status_code == 403 and "auditor" in refused.json()["detail"]
    then = json.loads(fleet_cli("audit", "serving", name, "--at", f"{before:.3f}",
                                "--json").stdout)
    assert [v["version"] for v in then["versions"]] == [1]
    assert then["set_by"] == "admin" and then["reason"] == "first deploy"
    listed = json.loads(fleet_cli("audit", "--resource", f"endpoint:{name}", "--json").stdout)
    assert len(listed) == 2
    verified = wait_until(lambda: (lambda v: v if v["seals"] else None)(
        json.loads(fleet_cli("audit", "verify", "--json").stdout)), timeout_s=30)
    assert verified["ok"] and verified["problems"] == []
