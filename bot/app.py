"""The Slack app: a slack-bolt App whose handlers acknowledge at once and do the work after,
on behalf of the Slack user who typed or clicked. Signature and timestamp checks are
Bolt's; on top, a request seen before is refused (a replay) and Slack's own retries of a
request already being handled are acknowledged and dropped."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import blocks, commands
from bot import messages as bot_messages
from bot.fleet_api import FleetAPI
from bot.people import People

log = logging.getLogger("fleet.bot")
SLACK_API = "https://slack.com/api/"


@dataclass(frozen=True)
class BotEnv:
    """Secrets and endpoints from the environment; never logged (repr hides them)."""

    bot_token: str
    signing_secret: str
    fleet_token: str
    gateway_url: str
    api_url: str = SLACK_API
    app_token: str | None = None

    def __repr__(self) -> str:
        return f"BotEnv(gateway_url={self.gateway_url!r}, api_url={self.api_url!r})"


class Replays:
    """(timestamp, signature) pairs seen in the last 5 minutes: Bolt refuses older ones."""

    def __init__(self, keep_s: float = 300.0, most: int = 100_000) -> None:
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self.keep_s, self.most = keep_s, most

    def first_time(self, ts: str, sig: str) -> bool:
        now = time.time()
        with self._lock:
            while self._seen and (len(self._seen) > self.most
                                  or next(iter(self._seen.values())) < now - self.keep_s):
                self._seen.popitem(last=False)
            if (ts, sig) in self._seen:
                return False
            self._seen[(ts, sig)] = now
            return True


class DropBadSignatureBodies(logging.Filter):
    """Bolt logs a request whose signature fails with its whole body, at INFO: a forged
    or replayed body (a person's command, a token pasted in it) has no place in a log.
    The line stays, without the body or the signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature detected"):
            record.msg, record.args = bot_messages.BOT_BAD_SIGNATURE_LOG, ()
        return True


for _name in ("slack_bolt.RequestVerification", "slack_bolt.AsyncRequestVerification"):
    logging.getLogger(_name).addFilter(DropBadSignatureBodies())


def build_app(settings, env: BotEnv, *, api: FleetAPI | None = None,
              users: dict[str, str] | None = None) -> App:
    """`users`: Slack user id -> Fleet identity (default bot.users; the console passes its
    own, which it changes as people take turns). Groups: bot.groups (bot.people)."""
    api = api or FleetAPI(env.gateway_url, env.fleet_token)
    web = WebClient(token=env.bot_token, base_url=env.api_url)
    people = People(settings.bot.users if users is None else users, settings.bot.groups, web)
    replays = Replays()
    app = App(client=web, signing_secret=env.signing_secret, process_before_response=False)

    @app.middleware
    def refuse_replays(req, resp, next):  # noqa: A002 (Bolt's name)
        headers = req.headers
        ts = (headers.get("x-slack-request-timestamp") or [""])[0]
        sig = (headers.get("x-slack-signature") or [""])[0]
        if ts and sig and not replays.first_time(ts, sig):
            return BoltResponse(status=401, body="replayed request")
        if headers.get("x-slack-retry-num"):  # Slack retrying one we already handle
            return BoltResponse(status=200, body="")
        return next()

    @app.middleware
    def who_is_it(context, next):  # noqa: A002 (Bolt's name)
        """Every listener's Fleet identity, in bolt's context: `context["person"]`, the
        identity the Slack user maps to (bot.users, bot.groups), None when unmapped."""
        context["person"] = people.identity(context.user_id) if context.user_id else None
        return next()

    @app.middleware
    def only_mapped_act(context, body, client, next):  # noqa: A002 (Bolt's name)
        """What acts (a button, the reject dialog) needs a Fleet identity: an unmapped user
        gets the ephemeral 'not mapped' answer and nothing runs. The one place it is said
        (the /fleet command answers unmapped users read-only, in fleet.bot.commands)."""
        if body.get("type") not in ("block_actions", "view_submission") or context["person"]:
            return next()
        channel = (body.get("channel") or {}).get("id") or (
            (body.get("view") or {}).get("private_metadata", "").split("|") + ["", ""])[1]
        client.chat_postEphemeral(channel=channel, user=context.user_id,
                                  text=bot_messages.BOT_NOT_MAPPED.format(user=context.user_id))
        return BoltResponse(status=200, body="")

    def post(client, channel: str, user: str, reply: commands.Reply) -> None:
        if not reply.public:
            client.chat_postEphemeral(channel=channel, user=user, text=reply.text,
                                      blocks=reply.blocks or blocks.text(reply.text))
            return
        out = client.chat_postMessage(channel=channel, text=reply.text,
                                      blocks=reply.blocks or blocks.text(reply.text))
        if reply.follow_up is not None:
            ts = out["ts"]

            def later() -> None:
                client.chat_postMessage(channel=channel, thread_ts=ts, text=reply.follow_up())

            threading.Thread(target=later, name="fleet-bot-follow-up", daemon=True).start()

    @app.command("/fleet")
    def fleet_command(ack, command, client, context) -> None:
        ack()  # first: Slack's 3 s never depend on Fleet
        user, channel = command["user_id"], command["channel_id"]
        reply = commands.handle(api, command.get("text", ""), context["person"], user)
        post(client, channel, user, reply)

    def decide(client, person: str, user: str, approval_id: str, channel: str, ts: str,
               approve: bool, reason: str = "") -> None:
        """One click (or the reject dialog) on the approval message at (channel, ts), as
        `person` (the clicking user's Fleet identity)."""
        a = commands.decide(api, person, approval_id, approve, reason)
        if a.ok:
            client.chat_update(channel=channel, ts=ts, text=blocks.as_text(blocks.decided(a.body)),
                               blocks=blocks.decided(a.body))
        else:
            client.chat_postEphemeral(channel=channel, user=user,
                                      text=bot_messages.BOT_REFUSED.format(detail=a.detail))

    @app.action(blocks.APPROVE)
    def approve_click(ack, body, client, context) -> None:
        ack()
        decide(client, context["person"], body["user"]["id"], body["actions"][0]["value"],
               body["channel"]["id"], body["message"]["ts"], True)

    @app.action(blocks.REJECT)
    def reject_click(ack, body, client) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(
            body["actions"][0]["value"], body["channel"]["id"], body["message"]["ts"]))

    def drift_click(client, body, person: str, action: str) -> None:
        """Retrain or roll back (each opens an approval, as the person who clicked), or
        snooze; the answer goes into the alert's thread."""
        user, channel = body["user"]["id"], body["channel"]["id"]
        ts = body["message"]["ts"]
        thread_ts = body["message"].get("thread_ts") or ts
        value = body["actions"][0]["value"]
        if action == "snooze":
            endpoint, _, hours = value.partition("|")
            a = api.act(person, "POST", f"/v1/drift/{endpoint}/snooze",
                        json={"hours": float(hours or settings.bot.snooze_hours)})
            if a.ok:
                until = time.strftime("%Y-%m-%d %H:%M UTC",
                                      time.gmtime(a.body["alert"]["snoozed_until"] or 0))
                text = bot_messages.BOT_DRIFT_SNOOZED.format(who=person, endpoint=endpoint,
                                                         until=until)
        else:
            endpoint = value
            a = api.act(person, "POST", f"/v1/drift/{endpoint}/actions/{action}")
            if a.ok:
                text = bot_messages.BOT_DRIFT_ASKED.format(
                    who=person, action="retrain" if action == "retrain" else "roll back",
                    endpoint=endpoint, id=a.body["approval"]["id"])
        if not a.ok:
            client.chat_postEphemeral(channel=channel, user=user,
                                      text=bot_messages.BOT_REFUSED.format(detail=a.detail))
            return
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

    @app.action(blocks.DRIFT_RETRAIN)
    def drift_retrain(ack, body, client, context) -> None:
        ack()
        drift_click(client, body, context["person"], "retrain")

    @app.action(blocks.DRIFT_ROLLBACK)
    def drift_rollback(ack, body, client, context) -> None:
        ack()
        drift_click(client, body, context["person"], "rollback")

    @app.action(blocks.DRIFT_SNOOZE)
    def drift_snooze(ack, body, client, context) -> None:
        ack()
        drift_click(client, body, context["person"], "snooze")

    @app.view(blocks.REJECT_MODAL)
    def reject_reason(ack, body, view, client, context) -> None:
        ack()
        approval_id, channel, ts = view["private_metadata"].split("|")
        reason = view["state"]["values"]["reason"]["text"]["value"] or ""
        decide(client, context["person"], body["user"]["id"], approval_id, channel, ts, False,
               reason)

    return app
