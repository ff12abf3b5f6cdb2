"""`fleet bot console`: the bot's real handlers with no Slack workspace. Type a slash
command (`/fleet rollout status churn`) and see the reply, Block Kit rendered as text;
click a button by typing `click ACTION [VALUE]` (e.g. `click fleet_approve ap-1a2b3c`;
without a value, the newest message with that button); `as NAME` to type as another
person; `wait SECONDS` to watch what the notifier posts meanwhile.

Requests go through the same bolt app, signed as Slack signs them; its WebClient talks to a
local stand-in for the Slack Web API (bot.standin). The console acts for the Fleet identity
given with `--as` (else it can only read), through a short-lived bot token it mints and
revokes when it ends. A notifier of its own (a consumer of the outbox registered for the
session and removed after) posts rollouts and approvals into the console as they happen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from collections.abc import Iterable
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot import blocks
from bot.app import BotEnv, build_app
from bot.fleet_api import FleetAPI
from bot.notifier import Notifier
from bot.standin import LocalSlack

CHANNEL = "CCONSOLE"
HELP = "console> type /fleet ..., click ACTION [VALUE], as NAME, wait SECONDS, or quit\n"


def _signed(secret: str, body: str) -> dict:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": [ts], "x-slack-signature": [sig],
            "content-type": ["application/x-www-form-urlencoded"]}


def _render(method: str, params: dict, saved: list[str] | None = None) -> str:
    if method == "files.completeUploadExternal":
        thread = " (in thread)" if params.get("thread_ts") else ""
        return f"fleet{thread}> [file] " + ", ".join(saved or []) if saved else \
            f"fleet{thread}> [file not received]"
    items = params.get("blocks")
    body = blocks.as_text(items) if items else params.get("text", "")
    where = {"chat.postEphemeral": "(only you)", "chat.update": "(updated)",
             "views.open": "(dialog)"}.get(method, "")
    if method == "views.open":
        body = "a dialog asks: Why? (reply with: reason TEXT)"
    thread = " (in thread)" if params.get("thread_ts") else ""
    return f"fleet {where}{thread}> {body}".replace("  ", " ")


def _user_id(person: str | None) -> str:
    return "U" + "".join(c for c in (person or "local").upper() if c.isalnum())[:20]


class Session:
    """One console session: the bot app, a notifier and a stand-in Slack, for `person`."""

    def __init__(self, settings, gateway_url: str, services, out=sys.stdout,
                 person: str | None = None, wait_s: float = 3.0, echo: bool = False,
                 files_dir=None, admin=None) -> None:
        """`services`: the installation's (fleet.services.Services), used as `admin` (the
        local admin by default) to mint the session's client token and its outbox stream.
        `echo`: print each line as typed (a scripted session, e.g. the demo's).
        `files_dir`: where files the bot uploads (drift plots) are saved (default
        FLEET_HOME/bot-console/files)."""
        from pathlib import Path

        from fleet.identity import local_admin

        self.out, self.wait_s, self.echo = out, wait_s, echo
        self.services, self.admin = services, admin or local_admin()
        self.files_dir = Path(files_dir or Path(settings.home) / "bot-console" / "files")
        self.slack = LocalSlack()
        self.token, self._record = services.tokens.add_client(
            self.admin, "slack-console", scopes=["read", "invoke", "act_as", "notify"],
            ttl_s=3600)
        self.secret = secrets.token_hex(16)
        self.users: dict[str, str] = {}
        self.user = self.become(person)
        env = BotEnv(bot_token="xoxb-console", signing_secret=self.secret,
                     fleet_token=self.token, gateway_url=gateway_url, api_url=self.slack.url)
        self.app = build_app(settings, env, users=self.users)
        self.consumer = f"console-{os.getpid()}"
        services.outbox.register(self.admin, self.consumer)
        self.notifier = Notifier(FleetAPI(gateway_url, self.token),
                                 WebClient(token="xoxb-console", base_url=self.slack.url),
                                 CHANNEL, consumer=self.consumer, poll_s=0.2,
                                 snooze_hours=settings.bot.snooze_hours)
        self.notifier.start()
        self._shown, self._pending_reject = 0, None

    def become(self, person: str | None) -> str:
        """Type as `person` (a Fleet identity) from now on; None: an unmapped Slack user."""
        self.user, self.person = _user_id(person), person
        if person:
            self.users[self.user] = person
        return self.user

    def _message_with(self, action: str, value: str) -> tuple[str, str]:
        """The (ts, value) of the newest message holding the button (with that value)."""
        for m in reversed(self.slack.messages.get(CHANNEL, [])):
            for b in m.get("blocks") or []:
                for e in b.get("elements") or [] if b.get("type") == "actions" else []:
                    if e["action_id"] == action and value in ("", e.get("value")):
                        return m["ts"], e.get("value", "")
        return "1.1", value

    def has_button(self, action: str) -> bool:
        """Whether a message posted in the console holds this button (e.g. Approve)."""
        return self._message_with(action, "")[0] != "1.1"

    def send(self, line: str) -> None:
        """One typed line; prints what Slack would show (including the notifier's posts)."""
        if self.echo:
            self.out.write(f"{self.person or 'guest'}> {line}\n")
        if line.startswith("as "):
            self.become(line[3:].strip())
            self.out.write(f"console> typing as {line[3:].strip()}\n")
            return
        if line.startswith("wait "):
            self.watch(float(line[5:].strip() or 1))
            return
        if line.startswith("/fleet"):
            body = urlencode({"command": "/fleet", "text": line[len("/fleet"):].strip(),
                              "user_id": self.user, "channel_id": CHANNEL, "team_id": "T1",
                              "trigger_id": "console"})
        elif line.startswith("click "):
            action, _, value = line[len("click "):].partition(" ")
            ts, value = self._message_with(action, value.strip())
            payload = {"type": "block_actions", "user": {"id": self.user},
                       "team": {"id": "T1"}, "api_app_id": "A1", "trigger_id": "console",
                       "channel": {"id": CHANNEL}, "message": {"ts": ts},
                       "container": {"type": "message", "message_ts": ts,
                                     "channel_id": CHANNEL},
                       "actions": [{"action_id": action, "value": value, "type": "button",
                                    "block_id": "b", "action_ts": str(time.time())}]}
            body = urlencode({"payload": json.dumps(payload)})
        elif line.startswith("reason ") and self._pending_reject is not None:
            view = {**self._pending_reject, "id": "V1", "state": {"values": {"reason": {
                "text": {"type": "plain_text_input", "value": line[len("reason "):]}}}}}
            body = urlencode({"payload": json.dumps({
                "type": "view_submission", "user": {"id": self.user}, "team": {"id": "T1"},
                "api_app_id": "A1", "view": view})})
            self._pending_reject = None
        else:
            self.out.write(HELP)
            return
        seen = len(self.slack.calls)
        self.app.dispatch(BoltRequest(body=body, headers=_signed(self.secret, body)))
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline and len(self.slack.calls) == seen:
            time.sleep(0.05)
        time.sleep(0.2)  # a reply may come in two parts (a message, then its thread)
        self.show()

    def show(self) -> None:
        """Print the calls not shown yet."""
        calls = self.slack.calls[self._shown:]
        self._shown += len(calls)
        for method, params in calls:
            if method in ("auth.test", "conversations.list", "conversations.history",
                          "conversations.replies"):
                continue
            if method == "views.open":
                self._pending_reject = params["view"]
            if method in ("files.getUploadURLExternal", "upload"):
                continue
            saved = self._save_files(params) if method == "files.completeUploadExternal" \
                else None
            self.out.write(_render(method, params, saved) + "\n")
        self.out.flush()

    def _save_files(self, params: dict) -> list[str]:
        """Files shared in the console, written to files_dir: their paths."""
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        paths = []
        for f in files:
            known = self.slack.files.get(f.get("id"))
            if known and known.get("content"):
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / (known["name"] or f"{known['id']}.bin")
                path.write_bytes(known["content"])
                paths.append(str(path))
        return paths

    def watch(self, seconds: float, until=None) -> None:
        """Print what arrives for `seconds`, or until `until()` is true."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            self.show()
            time.sleep(0.2)
        self.show()

    def close(self) -> None:
        self.notifier.stop()
        self.slack.stop()
        self.services.outbox.unregister(self.admin, self.consumer)
        self.services.tokens.revoke(self.admin, self._record.id)


def run(settings, gateway_url: str, services, lines: Iterable[str], out=sys.stdout,
        person: str | None = None, wait_s: float = 3.0) -> None:
    session = Session(settings, gateway_url, services, out=out, person=person,
                      wait_s=wait_s)
    try:
        for raw in lines:
            line = raw.strip()
            if line in ("quit", "exit"):
                break
            if line:
                session.send(line)
    finally:
        session.close()
