"""Alertmanager's webhook into Fleet (cluster/alertmanager points here) through the real
FastAPI app and store: a firing alert and its resolution are one outbox event each however
often Alertmanager repeats them; only a `notify` token may post; the bot shows an
endpoint's alert with Retrain and Roll back, and a resolution without buttons."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot import blocks
from fleet.config import load_settings
from fleet.gateway import create_app
from fleet.store import open_store

NOTIFY, READER = "notify-token-0123456789", "reader-token-0123456789"


@pytest.fixture
def http(tmp_path):
    (tmp_path / "fleet.yaml").write_text(f"""
tokens:
  - {{name: alertmanager, token: {NOTIFY}, scopes: [notify]}}
  - {{name: reader, token: {READER}, scopes: [read]}}
""")
    settings = load_settings(tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.store = open_store(settings.resolved_store_url)
        yield client


def alert(status="firing", starts="2026-12-03T01:00:00Z", fingerprint="a1b2c3"):
    return {"status": status, "fingerprint": fingerprint, "startsAt": starts,
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph",
            "labels": {"alertname": "FleetEndpointErrorRate", "severity": "page",
                       "endpoint": "churn", "version": "churn:2"},
            "annotations": {"summary": "churn churn:2: 10% of requests fail",
                            "description": "More than 5% failed."}}


def post(http, alerts, token=NOTIFY, status="firing"):
    return http.post("/v1/alerts/alertmanager", headers={"Authorization": f"Bearer {token}"},
                     json={"version": "4", "status": status, "receiver": "fleet",
                           "groupLabels": {}, "alerts": alerts})


def test_an_alert_is_one_event_when_it_fires_and_one_when_it_resolves(http):
    first = post(http, [alert()])
    assert first.status_code == 200 and len(first.json()["events"]) == 1
    assert post(http, [alert()]).json()["events"] == []  # Alertmanager's repeat
    resolved = post(http, [alert("resolved")], status="resolved")
    assert len(resolved.json()["events"]) == 1
    again = post(http, [alert(starts="2026-12-03T02:00:00Z")])  # it fires again later
    assert len(again.json()["events"]) == 1
    events = http.store.outbox.recent(subject="alert:a1b2c3")
    assert [e["kind"] for e in events] == ["alert.firing", "alert.resolved", "alert.firing"]
    assert events[0]["payload"]["endpoint"] == "churn"
    assert all(e["deliveries"] == {"slack": "pending"} for e in events)


def test_only_a_notify_token_may_post_and_bad_bodies_are_named(http):
    assert post(http, [alert()], token=READER).status_code == 403
    assert post(http, [alert()], token="nope").status_code == 401
    bad = post(http, [{**alert(), "fingerprint": "../../x"}])
    assert bad.status_code == 422 and "fingerprint" in str(bad.json())
    assert http.store.outbox.recent(subject="alert:a1b2c3") == []


def test_the_bot_shows_an_endpoints_alert_with_its_buttons():
    firing = {"id": 7, "kind": "alert.firing", "payload": {
        "alertname": "FleetEndpointErrorRate", "endpoint": "churn",
        "labels": {"severity": "page"}, "annotations": {"summary": "10% fail",
                                                         "description": "More than 5%."}}}
    body = blocks.prometheus_alert(firing)
    text = blocks.as_text(body)
    assert "FleetEndpointErrorRate" in text and "10% fail" in text and "More than 5%" in text
    actions = [e["action_id"] for b in body if b["type"] == "actions" for e in b["elements"]]
    assert actions == [blocks.DRIFT_RETRAIN, blocks.DRIFT_ROLLBACK]
    resolved = blocks.prometheus_alert({**firing, "kind": "alert.resolved"})
    assert "resolved" in blocks.as_text(resolved)
    assert not [b for b in resolved if b["type"] == "actions"]
