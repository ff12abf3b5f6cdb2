"""cluster/'s operations configs, checked by the tools that will load them: promtool for
Prometheus' config and its rules (with their unit tests), amtool for Alertmanager's, and
the Grafana dashboard's shape (its queries run against a real Prometheus in
tests/integration/test_rollouts.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing; make test installs it as root "
                        f"(apt-get install {package})")
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return path


def run(*args: str, cwd: Path) -> str:
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


def test_prometheus_config_and_rules_load_and_their_unit_tests_pass():
    promtool = tool("promtool", "prometheus")
    here = CLUSTER / "prometheus"
    checked = run(promtool, "check", "config", "prometheus.yml", cwd=here)
    assert "SUCCESS" in checked and "rules found" in checked
    tested = run(promtool, "test", "rules", "tests/fleet.rules.test.yml", cwd=here)
    assert "SUCCESS" in tested
    # every alert rule has a test that fires it
    rules = (here / "rules" / "fleet.rules.yml").read_text()
    tests = (here / "tests" / "fleet.rules.test.yml").read_text()
    alerts = [line.split(":", 1)[1].strip() for line in rules.splitlines()
              if line.strip().startswith("- alert:")]
    assert len(alerts) >= 8
    assert [a for a in alerts if f"alertname: {a}" not in tests] == []


def test_alertmanager_sends_every_alert_to_the_gateway_with_a_token_from_a_file():
    amtool = tool("amtool", "prometheus-alertmanager")
    here = CLUSTER / "alertmanager"
    assert "SUCCESS" in run(amtool, "check-config", "alertmanager.yml", cwd=here)
    for labels in (["severity=page", "endpoint=churn"], ["severity=warn", "function=train"]):
        routed = run(amtool, "config", "routes", "test", "--config.file=alertmanager.yml",
                     *labels, cwd=here)
        assert routed.splitlines()[0].strip() == "fleet", routed
    text = (here / "alertmanager.yml").read_text()
    assert "/v1/alerts/alertmanager" in text and "credentials_file" in text
    assert "credentials:" not in text  # the token is never inline


def test_the_dashboard_has_every_panel_the_operators_need():
    dash = json.loads((CLUSTER / "grafana" / "fleet.json").read_text())
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in panels:
        assert p["targets"] and all(t["expr"] and t["refId"] for t in p["targets"]), p["title"]
        assert 0 <= p["gridPos"]["x"] and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
        assert p["datasource"]["uid"] == "${datasource}"
    exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
    for metric in ("fleet_invocations_total", "fleet_invocation_duration_seconds_bucket",
                   "fleet_router_requests_total", "fleet_router_request_duration_seconds",
                   "fleet_endpoint_version_weight", "fleet_drift_score", "ray_node_gram_used"):
        assert metric in exprs, metric
    assert "histogram_quantile(0.99" in exprs
    names = {v["name"] for v in dash["templating"]["list"]}
    assert names == {"datasource", "endpoint"}


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target, with Grafana's variables filled in the way
    Grafana would for "All" endpoints and a 1 s scrape."""
    dash = json.loads((CLUSTER / "grafana" / "fleet.json").read_text())
    return [(p["title"], t["expr"].replace("$__rate_interval", "30s")
             .replace('"$endpoint"', '".*"'))
            for p in dash["panels"] if p["type"] != "row" for t in p["targets"]]
