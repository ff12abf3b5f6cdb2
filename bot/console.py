"""`fleet bot console`: the bot's real handlers with no Slack workspace. Type a slash
command (`/fleet rollout status churn`) and see the reply, Block Kit rendered as text;
click a button by typing `click ACTION VALUE` (e.g. `click fleet_approve ap-1a2b3c`).

Requests go through the same bolt app, signed as Slack signs them; its WebClient talks to a
local stand-in for the Slack Web API (bot.standin). The console acts for the Fleet identity
given with `--as` (else it can only read), through a short-lived bot token it mints and
revokes when it ends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sys
import time
from collections.abc import Iterable
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest

from bot import blocks
from bot.app import BotEnv, build_app
from bot.standin import LocalSlack

USER, CHANNEL = "ULOCAL", "CCONSOLE"


def _signed(secret: str, body: str) -> dict:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": [ts], "x-slack-signature": [sig],
            "content-type": ["application/x-www-form-urlencoded"]}


def _render(method: str, params: dict) -> str:
    raw = params.get("blocks")
    items = json.loads(raw) if isinstance(raw, str) else raw
    body = blocks.as_text(items) if items else params.get("text", "")
    where = {"chat.postEphemeral": "(only you)", "chat.update": "(updated)",
             "views.open": "(dialog)"}.get(method, "")
    if method == "views.open":
        body = "a dialog asks: Why? (reply with: reason TEXT)"
    thread = " (in thread)" if params.get("thread_ts") else ""
    return f"fleet {where}{thread}> {body}".replace("  ", " ")


def run(settings, gateway_url: str, store, lines: Iterable[str], out=sys.stdout,
        person: str | None = None, wait_s: float = 3.0) -> None:
    slack = LocalSlack()
    token, record = store.tokens.add(name="slack-console", scopes=["read", "invoke", "act_as", "notify"],
                                     roles=[], actor="local-admin", kind="job", ttl_s=3600)
    secret = secrets.token_hex(16)
    users = {USER: person} if person else {}
    cfg = settings.model_copy(update={"bot": settings.bot.model_copy(update={"users": users})})
    env = BotEnv(bot_token="xoxb-console", signing_secret=secret, fleet_token=token,
                 gateway_url=gateway_url, api_url=slack.url)
    time.sleep(0.6)  # the gateway's view of the token table refreshes every 0.25 s
    app = build_app(cfg, env)
    last_ts, pending_reject = "1.1", None
    try:
        for raw in lines:
            line = raw.strip()
            if not line or line in ("quit", "exit"):
                if line:
                    break
                continue
            seen = len(slack.calls)
            if line.startswith("/fleet"):
                body = urlencode({"command": "/fleet", "text": line[len("/fleet"):].strip(),
                                  "user_id": USER, "channel_id": CHANNEL, "team_id": "T1",
                                  "trigger_id": "console"})
            elif line.startswith("click "):
                action, _, value = line[len("click "):].partition(" ")
                payload = {"type": "block_actions", "user": {"id": USER}, "team": {"id": "T1"},
                           "api_app_id": "A1", "trigger_id": "console",
                           "channel": {"id": CHANNEL}, "message": {"ts": last_ts},
                           "container": {"type": "message", "message_ts": last_ts,
                                         "channel_id": CHANNEL},
                           "actions": [{"action_id": action, "value": value.strip(),
                                        "type": "button", "block_id": "b",
                                        "action_ts": str(time.time())}]}
                body = urlencode({"payload": json.dumps(payload)})
            elif line.startswith("reason ") and pending_reject is not None:
                view = {**pending_reject, "id": "V1", "state": {"values": {"reason": {"text": {
                    "type": "plain_text_input", "value": line[len("reason "):]}}}}}
                body = urlencode({"payload": json.dumps({
                    "type": "view_submission", "user": {"id": USER}, "team": {"id": "T1"},
                    "api_app_id": "A1", "view": view})})
                pending_reject = None
            else:
                out.write("console> type /fleet ..., click ACTION VALUE, or quit\n")
                continue
            app.dispatch(BoltRequest(body=body, headers=_signed(secret, body)))
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and len(slack.calls) == seen:
                time.sleep(0.05)
            time.sleep(0.2)  # a reply may come in two parts (a message, then its thread)
            for method, params in slack.calls[seen:]:
                if method == "auth.test":
                    continue
                if method == "chat.postMessage" and not params.get("thread_ts"):
                    last_ts = params["_ts"]  # a click acts on the latest message
                if method == "views.open":
                    pending_reject = params["view"] if isinstance(params["view"], dict) \
                        else json.loads(params["view"])
                out.write(_render(method, params) + "\n")
            out.flush()
    finally:
        slack.stop()
        store.tokens.revoke(record.id, actor="local-admin")
