"""The Slack bot against the real bolt app over HTTP, signed exactly as Slack signs, with
its WebClient pointed at a local fake of the Slack Web API, and the live Fleet behind it:
every decision comes from the core, through the gateway, on behalf of the Slack user."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from urllib.parse import urlencode

import httpx
import pytest

from tests.integration.conftest import BOT, CAT, wait_until
from tests.support.fake_slack import FakeSlack
from tests.support.postgres import free_port

SECRET = "test-signing-secret-0123456789"
USERS = {"UBOB": "bob", "UCAT": "cat", "UDEE": "dee"}  # UEVE is not mapped


@pytest.fixture(scope="module")
def slack():
    fake = FakeSlack()
    fake.groups = {"SONCALL": ["UDAN"]}  # a Slack user group whose members act as cat
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def bot_url(client, gateway_url, slack):
    import uvicorn

    from bot import BotEnv, asgi_app
    from fleet.config import BotConfig

    groups = {"SONCALL": "cat", "SGONE": "bob"}  # SGONE: Slack says no_such_subteam
    settings = client.settings.model_copy(update={"bot": BotConfig(users=USERS,
                                                                   groups=groups)})
    env = BotEnv(bot_token="xoxb-test", signing_secret=SECRET, fleet_token=BOT,
                 gateway_url=gateway_url, api_url=slack.url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(asgi_app(settings, env), host="127.0.0.1",
                                           port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    wait_until(lambda: server.started, timeout_s=30)
    yield f"http://127.0.0.1:{port}/slack/events"
    server.should_exit = True


def signed(body: str, ts: int | None = None, secret: str = SECRET) -> dict:
    ts = int(time.time()) if ts is None else ts
    base = f"v0:{ts}:{body}".encode()
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def command(bot_url, text: str, user: str = "UBOB", **sign) -> httpx.Response:
    body = urlencode({"command": "/fleet", "text": text, "user_id": user, "user_name": user,
                      "channel_id": "CROLL", "team_id": "T1", "trigger_id": "1.2.3",
                      "response_url": "http://127.0.0.1:9/unused", "api_app_id": "A1",
                      "token": "legacy"})
    return httpx.post(bot_url, content=body, headers=signed(body, **sign), timeout=30)


def click(bot_url, action: str, value: str, user: str, ts: str = "1700000000.000001",
          ) -> httpx.Response:
    payload = {"type": "block_actions", "user": {"id": user, "name": user},
               "team": {"id": "T1"}, "api_app_id": "A1", "token": "legacy",
               "trigger_id": "1.2.3", "channel": {"id": "CROLL"},
               "container": {"type": "message", "message_ts": ts, "channel_id": "CROLL"},
               "message": {"ts": ts, "text": "approval"},
               "actions": [{"action_id": action, "value": value, "type": "button",
                            "block_id": f"approval:{value}", "action_ts": str(time.time())}]}
    body = urlencode({"payload": json.dumps(payload)})
    return httpx.post(bot_url, content=body, headers=signed(body), timeout=30)


def test_unsigned_stale_future_and_replayed_requests_are_401_and_nothing_runs(bot_url, slack):
    slack.clear()
    body = urlencode({"command": "/fleet", "text": "run hello", "user_id": "UBOB",
                      "channel_id": "CROLL", "team_id": "T1"})
    refused = [
        httpx.post(bot_url, content=body, timeout=10),  # no headers
        httpx.post(bot_url, content=body, headers=signed(body, secret="wrong"), timeout=10),
        httpx.post(bot_url, content=body, headers=signed(body, ts=int(time.time()) - 600),
                   timeout=10),
        httpx.post(bot_url, content=body, headers=signed(body, ts=int(time.time()) + 600),
                   timeout=10),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    ok_headers = signed(urlencode({"command": "/fleet", "text": "help", "user_id": "UBOB",
                                   "channel_id": "CROLL", "team_id": "T1"}))
    help_body = urlencode({"command": "/fleet", "text": "help", "user_id": "UBOB",
                           "channel_id": "CROLL", "team_id": "T1"})
    first = httpx.post(bot_url, content=help_body, headers=ok_headers, timeout=10)
    again = httpx.post(bot_url, content=help_body, headers=ok_headers, timeout=10)
    assert (first.status_code, again.status_code) == (200, 401)
    time.sleep(1)
    posted = slack.of("chat.postEphemeral") + slack.of("chat.postMessage")
    assert len(posted) == 1 and "runs Fleet from Slack" in posted[0]["text"]  # only `help`


def test_help_and_a_typo_get_a_suggestion(bot_url, slack):
    slack.clear()
    assert command(bot_url, "rolout status churn").status_code == 200
    said = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "Did you mean `rollout`" in said[0]["text"]


def test_run_acts_as_the_slack_user_and_reports_in_the_thread(bot_url, slack, client):
    slack.clear()
    started = time.monotonic()
    r = command(bot_url, "run hello name=slack")
    assert r.status_code == 200 and time.monotonic() - started < 3  # acked within Slack's 3 s
    public = wait_until(lambda: [m for m in slack.of("chat.postMessage")
                                 if "Started `hello`" in m.get("text", "")])
    assert "Started `hello` as bob" in public[0]["text"]
    thread = wait_until(lambda: [m for m in slack.of("chat.postMessage")
                                 if m.get("thread_ts")], timeout_s=60)
    assert "succeeded" in thread[0]["text"] and "hello, slack" in thread[0]["text"].lower()
    inv_id = public[0]["text"].split("`")[3]
    assert client.store.invocations.get(inv_id).caller == "bob"


def test_a_member_of_a_mapped_user_group_acts_as_the_groups_identity(bot_url, slack):
    slack.clear()
    command(bot_url, "run hello name=oncall", user="UDAN")
    public = wait_until(lambda: [m for m in slack.of("chat.postMessage")
                                 if "Started `hello`" in m.get("text", "")])
    assert "Started `hello` as cat" in public[0]["text"]
    assert {p["usergroup"] for p in slack.of("usergroups.users.list")} >= {"SONCALL"}


def test_bad_arguments_get_the_gateways_field_problems(bot_url, slack):
    slack.clear()
    command(bot_url, "run hello nme=slack")
    said = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "`nme`: unknown field" in said[0]["text"]


def test_an_unmapped_slack_user_can_read_but_not_act(bot_url, slack, client):
    slack.clear()
    before = len(client.list(function="hello", limit=500))
    command(bot_url, "run hello", user="UEVE")
    said = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "not mapped to a Fleet identity" in said[0]["text"]
    assert len(client.list(function="hello", limit=500)) == before
    slack.clear()
    command(bot_url, "functions", user="UEVE")
    listed = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "`hello`" in listed[0]["text"]


def test_approve_buttons_are_decided_by_the_core(bot_url, slack, client):
    ap = client.store.approvals.create(
        gate="alias", target=f"model:bot-{uuid.uuid4().hex[:6]}@prod", summary="bob's change",
        requested_by="bob", role="approver", ttl_s=600)
    slack.clear()
    command(bot_url, "approvals", user="UEVE")
    # the command's own answer: the notifier may post the new approval's event first
    listed = wait_until(lambda: [m for m in slack.of("chat.postMessage")
                                 if m.get("text") == "Pending approvals"])
    buttons = [e for b in listed[0]["blocks"] if b["type"] == "actions"
               for e in b["elements"] if e["value"] == ap.id]
    assert {e["action_id"] for e in buttons} == {"fleet_approve", "fleet_reject"}
    assert all("confirm" in e for e in buttons)

    for user, reason in (("UBOB", "cannot approve"), ("UEVE", "not mapped")):
        slack.clear()
        assert click(bot_url, "fleet_approve", ap.id, user).status_code == 200
        said = wait_until(lambda: slack.of("chat.postEphemeral"))
        assert reason in said[0]["text"] and not slack.of("chat.update")
    assert client.store.approvals.get(ap.id).status == "pending"

    slack.clear()
    click(bot_url, "fleet_approve", ap.id, "UCAT")
    updated = wait_until(lambda: slack.of("chat.update"))
    assert "approved* by cat" in updated[0]["text"]
    assert not [b for b in updated[0]["blocks"] if b["type"] == "actions"]  # buttons gone
    assert client.store.approvals.get(ap.id).decided_by == "cat"
    slack.clear()
    click(bot_url, "fleet_approve", ap.id, "UCAT")  # twice: single use
    said = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "already decided" in said[0]["text"]


def test_an_expired_approval_is_refused_with_the_reason(bot_url, slack, client):
    ap = client.store.approvals.create(gate="alias", target="model:x@prod", summary="late",
                                       requested_by="bob", role="approver", ttl_s=0.5)
    time.sleep(1)
    slack.clear()
    click(bot_url, "fleet_approve", ap.id, "UCAT")
    said = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "expired" in said[0]["text"]


def test_reject_asks_for_a_reason_in_a_modal(bot_url, slack, client):
    ap = client.store.approvals.create(gate="alias", target="model:y@prod", summary="risky",
                                       requested_by="bob", role="approver", ttl_s=600)
    slack.clear()
    click(bot_url, "fleet_reject", ap.id, "UCAT", ts="1700000000.000042")
    opened = wait_until(lambda: slack.of("views.open"))
    view = opened[0]["view"]
    submission = {"type": "view_submission", "user": {"id": "UCAT"}, "team": {"id": "T1"},
                  "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.4",
                  "view": {**view, "id": "V1", "state": {"values": {"reason": {"text": {
                      "type": "plain_text_input", "value": "p99 too high"}}}}}}
    body = urlencode({"payload": json.dumps(submission)})
    assert httpx.post(bot_url, content=body, headers=signed(body), timeout=30).status_code == 200
    updated = wait_until(lambda: slack.of("chat.update"))
    assert updated[0]["ts"] == "1700000000.000042" and "rejected* by cat" in updated[0]["text"]
    assert "p99 too high" in updated[0]["text"]  # the reason shows where the buttons were
    decided = client.store.approvals.get(ap.id)
    assert decided.status == "rejected" and decided.comment == "p99 too high"


def test_the_console_runs_the_same_handlers_without_a_workspace(client):
    import subprocess

    from tests.integration.conftest import fleet_cli

    ap = client.store.approvals.create(gate="alias", target="model:console@prod",
                                       summary="console change", requested_by="bob",
                                       role="approver", ttl_s=600)
    script = "\n".join(["/fleet rolout status churn", "/fleet approvals",
                        f"click fleet_approve {ap.id}", "quit"]) + "\n"
    out = subprocess.run([fleet_cli.__globals__["FLEET"], "bot", "console", "--as", "cat"],
                         input=script, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "Did you mean `rollout`" in text
    assert f"[Approve: fleet_approve {ap.id}]" in text
    assert "(updated)> *approved* by cat" in text
    assert client.store.approvals.get(ap.id).decided_by == "cat"
    assert not [t for t in client.store.tokens.list() if t.name == "slack-console"]  # revoked


def test_an_approval_deleted_in_slack_is_not_retried_forever(client, gateway_url):
    """The notifier posts a request; someone deletes the message in Slack; the decision's
    update finds no message and is recorded as skipped, not retried to a dead letter."""
    from slack_sdk import WebClient

    from bot.fleet_api import FleetAPI
    from bot.notifier import Notifier

    slack = FakeSlack()
    slack.strict_updates = True
    client.store.outbox.register("it-deleted")  # its own consumer: only what follows
    notifier = Notifier(FleetAPI(gateway_url, BOT), WebClient(token="x", base_url=slack.url),
                        "CDEL", consumer="it-deleted", poll_s=0.1)
    notifier.start()
    try:
        ap = client.store.approvals.create(gate="alias", target="model:deleted@prod",
                                           summary="to be deleted", requested_by="bob",
                                           role="approver", ttl_s=600)
        (msg,) = wait_until(lambda: [m for m in slack.messages.get("CDEL", [])
                                     if ap.id in json.dumps(m.get("blocks"))])
        assert any(b["type"] == "actions" for b in msg["blocks"])  # Approve and Reject
        slack.delete("CDEL", msg["ts"])
        ok = httpx.post(f"{gateway_url}/v1/approvals/{ap.id}/approve", timeout=30,
                        headers={"Authorization": f"Bearer {CAT}"})
        assert ok.status_code == 200
        wait_until(lambda: not client.store.outbox.pending("it-deleted"))
        rows = client.store.outbox.deliveries(consumer="it-deleted")
        assert {r["state"] for r in rows} == {"delivered"}
        assert rows[0]["result"] == {"skipped": "message deleted"}  # the decision
        assert len(slack.of("chat.update")) == 1
    finally:
        notifier.stop()
        slack.stop()
        client.store.outbox.unregister("it-deleted")


def test_fleet_outbox_shows_dead_letters_and_replays_them(client):
    from fleet.config import OutboxConfig
    from tests.integration.conftest import fleet_cli

    ap = client.store.approvals.create(gate="alias", target="model:dead@prod",
                                       summary="never reaches Slack", requested_by="bob",
                                       role="approver", ttl_s=600)
    event = [e for e in client.store.outbox.recent(subject=f"approval:{ap.id}")][0]["id"]
    once = OutboxConfig(max_attempts=1)
    for e in client.store.outbox.claim("slack", "it-notifier", limit=500):
        state = client.store.outbox.failed("slack", e["id"], "it-notifier",
                                           error="channel_not_found", policy=once)["state"]
        assert state == "dead"
    listed = json.loads(fleet_cli("outbox", "--state", "dead", "--limit", "500",
                                  "--json").stdout)
    (row,) = [d for d in listed if d["event_id"] == event]
    assert row["last_error"] == "channel_not_found" and row["attempts"] == 1
    table = fleet_cli("outbox", "--state", "dead", "--limit", "1", env={
        **__import__("os").environ, "COLUMNS": "200"}).stdout
    assert "channel_not_found" in table and "approval.requested" in table
    bad = fleet_cli("outbox", "--state", "lost", check=False)
    assert bad.returncode != 0 and "dead" in bad.stderr  # names the states to use
    out = fleet_cli("outbox", "replay", str(event)).stdout
    assert "Replayed 1" in out
    row = [d for d in client.store.outbox.deliveries(consumer="slack", limit=1000)
           if d["event_id"] == event][0]
    assert row["state"] == "pending" and row["attempts"] == 0
    client.store.outbox.replay(consumer="slack", actor="test")  # the rest, for later tests


def test_a_refused_action_is_said_to_the_person_only(bot_url, slack, client):
    """`/fleet rollout pause` on an endpoint with nothing to pause is refused by the core:
    the person sees why, ephemerally; the channel sees nothing (it is not a failure)."""
    slack.clear()
    command(bot_url, "rollout pause quiet-endpoint", user="UDEE")
    said = wait_until(lambda: slack.of("chat.postEphemeral"))
    assert "quiet-endpoint" in said[0]["text"] and said[0]["text"].startswith(":no_entry:")
    time.sleep(0.5)  # a public post would have come with the ephemeral one
    assert not slack.of("chat.postMessage")
