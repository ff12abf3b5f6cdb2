"""The Slack notifier: delivers the outbox's events to Slack, losing none and posting none
twice, with any number of notifier processes at once.

Each round it claims a batch of deliveries from the gateway (under a lease; in order per
subject, so one rollout's events arrive in the order they happened) and delivers them:

- a rollout's first event posts its one message in the rollout channel; the message's
  (channel, ts) is stored with the delivery, and every later event updates it in place
  (`chat.update`: status, the ladder so far, the live traffic split) and adds a line to
  its thread;
- an approval request posts a message with Approve and Reject; its decision (from Slack or
  the CLI) updates that message: who decided, and no buttons;
- events Slack has no message for (routing changes) are marked delivered as skipped.

Every message carries Slack message metadata with its event id. A delivery on its second
attempt or later (the last holder may have died after posting and before reporting) first
looks for that metadata in the channel or thread and reuses what it finds. A failure is
reported with its error and Slack's Retry-After; the core decides the backoff and when to
give up to the dead-letter state (`fleet outbox`)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot import messages as bot_messages
from bot.fleet_api import FleetAPI
from fleet.rollouts import FINAL_STATUSES

log = logging.getLogger("fleet.bot.notifier")
MAX_PAGES = 50  # of 200 messages: how far back a lost post is looked for
CONSUMER = "slack"
MAIN, LINE, APPROVAL, DRIFT, ALERT = ("fleet_rollout", "fleet_event", "fleet_approval",
                                      "fleet_drift", "fleet_alert")  # metadata types


class Retry(Exception):
    """A delivery that failed and should be tried again later."""

    def __init__(self, error: str, retry_after_s: float | None = None) -> None:
        super().__init__(error)
        self.retry_after_s = retry_after_s


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    for k, v in headers.items():
        if k.lower() == "retry-after":
            try:
                return float(v[0] if isinstance(v, list) else v)
            except (TypeError, ValueError):
                return None
    return None


class Notifier:
    def __init__(self, api: FleetAPI, client: WebClient, channel: str, *,
                 consumer: str = CONSUMER, holder: str | None = None, lease_s: float = 30.0,
                 poll_s: float = 0.2, batch: int = 50, snooze_hours: float = 4.0) -> None:
        self.api, self.client, self.channel = api, client, channel
        self.consumer, self.lease_s, self.poll_s, self.batch = consumer, lease_s, poll_s, batch
        self.snooze_hours = snooze_hours
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.delivered = 0
        self._stop = threading.Event()
        self._channel_id: str | None = channel if channel[:1] in "CGD" else None

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        log.info(bot_messages.BOT_NOTIFIER_STARTED.format(
            holder=self.holder, consumer=self.consumer, channel=self.channel))
        while not self._stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # never die on one bad round: the next claim starts afresh
                log.exception("notifier round failed")
                done = 0
            if not done:
                self._stop.wait(self.poll_s)

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name="fleet-bot-notifier", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> int:
        """Claim a batch and deliver it; returns how many were handled (delivered or not)."""
        got = self.api.as_bot("POST", f"/v1/outbox/{self.consumer}/claim",
                              json={"holder": self.holder, "limit": self.batch,
                                    "lease_s": self.lease_s})
        if not got.ok:
            log.warning("outbox claim refused: %s", got.detail)
            return 0
        events = got.body["events"]
        blocked: set[str] = set()  # subjects with a failure this round: the rest waits
        threads: dict[str, dict] = {}  # a message made by an earlier event of this batch
        for i, e in enumerate(events):
            if e["subject"] in blocked:
                continue
            if e["subject"] in threads:
                e["thread"] = threads[e["subject"]]
            base = f"/v1/outbox/{self.consumer}/events/{e['id']}"
            try:
                result, thread = self.deliver(e)
            except Retry as exc:
                log.warning("event %s (%s) attempt %s failed: %s", e["id"], e["kind"],
                            e.get("attempts"), exc)
                blocked.add(e["subject"])
                self.api.as_bot("POST", base + "/failed", json={
                    "holder": self.holder, "error": str(exc)[:4000] or "failed",
                    "retry_after_s": exc.retry_after_s})
                later = [x["id"] for x in events[i + 1:] if x["subject"] == e["subject"]]
                if later:
                    self.api.as_bot("POST", f"/v1/outbox/{self.consumer}/release",
                                    json={"holder": self.holder, "event_ids": later})
                continue
            done = self.api.as_bot("POST", base + "/delivered", json={
                "holder": self.holder, "result": result, "thread": thread})
            if done.ok:
                self.delivered += 1
                if thread is not None:
                    threads[e["subject"]] = thread
            else:  # our lease ran out: the next holder finds the message by its metadata
                blocked.add(e["subject"])
        return len(events)

    # -- one event -----------------------------------------------------------------------------

    def deliver(self, e: dict[str, Any]) -> tuple[dict | None, dict | None]:
        """Deliver one event; returns (result, the subject's own message or None)."""
        try:
            if e["subject"].startswith("rollout:"):
                return self._rollout(e)
            if e["kind"] == "approval.requested":
                return self._approval_requested(e)
            if e["kind"] == "approval.decided":
                return self._approval_decided(e)
            if e["kind"] == "drift.detected":
                return self._drift(e)
            if e["kind"] in ("alert.firing", "alert.resolved"):
                return self._alert(e)
            return {"skipped": e["kind"]}, None
        except SlackApiError as exc:
            error = exc.response.get("error") if hasattr(exc.response, "get") else None
            status = getattr(exc.response, "status_code", "?")
            raise Retry(f"Slack answered {status}: {error or 'error'}",
                        _retry_after(exc)) from None
        except (OSError, TimeoutError) as exc:  # connection refused, reset, timed out
            raise Retry(f"Slack unreachable: {type(exc).__name__}: {exc}") from None

    def _read(self, path: str) -> dict | None:
        a = self.api.read(path)
        if a.status == 404:
            return None
        if not a.ok:
            raise Retry(f"Fleet answered {a.status}: {a.detail}")
        return a.body

    def _meta(self, kind: str, e: dict) -> dict:
        return {"event_type": kind, "event_payload": {"event_id": e["id"], "kind": e["kind"],
                                                      "subject": e["subject"]}}

    def _find(self, channel: str, thread_ts: str | None, kind: str, e: dict) -> str | None:
        """The ts of a message this event already became (posted by a holder that died
        before reporting), found by its metadata; None if there is none. Every page is
        read (a thread's replies come oldest first, so the newest are on its last page)."""
        if e.get("attempts", 1) <= 1:
            return None
        channel, cursor = self._resolve(channel), None
        for _ in range(MAX_PAGES):
            if thread_ts:
                page = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=200, cursor=cursor,
                    include_all_metadata=True)
            else:
                page = self.client.conversations_history(
                    channel=channel, limit=200, cursor=cursor, include_all_metadata=True)
            for m in page.get("messages") or []:
                meta = m.get("metadata") or {}
                if (meta.get("event_type") == kind
                        and (meta.get("event_payload") or {}).get("event_id") == e["id"]):
                    return m["ts"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _post(self, kind: str, e: dict, *, text: str, blocks_: list | None = None,
              channel: str | None = None, thread_ts: str | None = None) -> dict:
        channel = channel or self._channel()
        ts = self._find(channel, thread_ts, kind, e)
        if ts is not None:  # found again after a crash: stored with the id, as a post is
            channel = self._resolve(channel)
        else:
            out = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks_,
                                               thread_ts=thread_ts, metadata=self._meta(kind, e))
            channel, ts = out["channel"], out["ts"]
            if not thread_ts and channel[:1] in "CGD":
                self._channel_id = channel
        return {"channel": channel, "ts": ts}

    def _resolve(self, channel: str) -> str:
        """History and replies need a channel id; a configured #name is looked up once
        (conversations.list, the channels:read scope), else used as it is."""
        if channel[:1] in "CGD" or channel != self.channel:
            return channel
        name, cursor = channel.lstrip("#"), None
        for _ in range(20):
            page = self.client.conversations_list(types="public_channel,private_channel",
                                                  exclude_archived=True, limit=1000,
                                                  cursor=cursor)
            for c in page.get("channels") or []:
                if c.get("name") == name:
                    self._channel_id = c["id"]
                    return c["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return channel

    def _channel(self) -> str:
        """The rollout channel's id where known (history needs an id, not a #name)."""
        return self._channel_id or self.channel

    def _rollout(self, e: dict) -> tuple[dict | None, dict | None]:
        ro = self._read(f"/v1/rollouts/{e['payload']['id']}")
        if ro is None:
            return {"skipped": "rollout not found"}, None
        routing = None
        if ro["status"] not in FINAL_STATUSES or ro["id"] == self._active(ro["endpoint"]):
            routing = (self._read(f"/v1/endpoints/{ro['endpoint']}") or {}).get("routing")
        body = blocks.rollout(ro, routing)
        summary = blocks.as_text(body)
        thread = e.get("thread")
        if thread is not None and not self._update(thread, summary, body):
            thread = None  # someone deleted it: a new one
        if thread is None:  # its first event here: the message
            thread = self._post(MAIN, e, text=summary, blocks_=body)
        if e["kind"] == "rollout.created":
            return {"message": thread}, thread
        kind = e["kind"].split(".", 1)[1]
        line = self._post(LINE, e, text=blocks.rollout_event(kind, e["payload"]),
                          channel=thread["channel"], thread_ts=thread["ts"])
        return {"message": thread, "reply": line}, thread

    def _active(self, endpoint: str) -> str | None:
        """The endpoint's newest rollout: the one whose traffic split it still shows."""
        page = self._read(f"/v1/rollouts?endpoint={endpoint}&limit=1") or {}
        rows = page.get("rollouts") or []
        return rows[0]["id"] if rows else None

    def _approval_requested(self, e: dict) -> tuple[dict | None, dict | None]:
        ap = self._read(f"/v1/approvals/{e['subject'].split(':', 1)[1]}")
        if ap is None:
            return {"skipped": "approval not found"}, None
        body = blocks.approval(ap) if ap["status"] == "pending" else blocks.decided(ap)
        msg = self._post(APPROVAL, e, text=blocks.as_text(body), blocks_=body)
        return {"message": msg}, msg

    def _approval_decided(self, e: dict) -> tuple[dict | None, dict | None]:
        thread = e.get("thread")
        ap = self._read(f"/v1/approvals/{e['subject'].split(':', 1)[1]}")
        if thread is None or ap is None:
            return {"skipped": "no message to update"}, None
        body = blocks.decided(ap)
        if not self._update(thread, blocks.as_text(body), body):
            return {"skipped": "message deleted"}, None
        return {"message": thread}, thread

    def _drift(self, e: dict) -> tuple[dict | None, dict | None]:
        """A drift alert: the endpoint's first posts its message; later ones (after the
        earlier was answered, or a snooze ran out) reply in that message's thread. The
        summary plot follows in the same thread (Slack's external upload flow)."""
        p = e["payload"]
        got = self._read(f"/v1/drift/{p['endpoint']}/reports/{p['report']}")
        if got is None:
            return {"skipped": "report not found"}, None
        report = got["report"]
        msg, thread = self._post_in_thread(DRIFT, e, blocks.drift_alert(report,
                                                                        self.snooze_hours))
        png = None
        if "summary" in (report.get("plots") or {}):
            png = self.api.read_bytes(f"/v1/drift/{p['endpoint']}/reports/{report['id']}"
                                      "/plots/summary")
        if png:
            title = bot_messages.BOT_DRIFT_PLOT.format(endpoint=p["endpoint"], id=report["id"])
            self.client.files_upload_v2(
                channel=self._resolve(msg["channel"]), thread_ts=thread["ts"], content=png,
                filename=f"drift-{p['endpoint']}-{report['id']}.png", title=title)
        return {"message": msg, "plot": bool(png)}, thread

    def _alert(self, e: dict) -> tuple[dict | None, dict | None]:
        """An Alertmanager alert: firing posts a message; its resolution replies in that
        message's thread (a later firing of the same alert, too)."""
        msg, thread = self._post_in_thread(ALERT, e, blocks.prometheus_alert(e))
        return {"message": msg}, thread

    def _post_in_thread(self, kind: str, e: dict, body: list) -> tuple[dict, dict]:
        """The subject's first event posts its message (which becomes its thread); later
        ones reply in that thread. Returns (this message, the thread)."""
        thread = e.get("thread")
        if thread is None:
            msg = thread = self._post(kind, e, text=blocks.as_text(body), blocks_=body)
        else:
            msg = self._post(kind, e, text=blocks.as_text(body), blocks_=body,
                             channel=thread["channel"], thread_ts=thread["ts"])
        return msg, thread

    def _update(self, thread: dict, text: str, body: list) -> bool:
        """chat.update in place; False if the message is gone (deleted in Slack)."""
        try:
            self.client.chat_update(channel=thread["channel"], ts=thread["ts"], text=text,
                                    blocks=body)
        except SlackApiError as exc:
            if exc.response.get("error") == "message_not_found":
                return False
            raise
        return True


def from_env(settings, env, **kw) -> Notifier:
    """A notifier with the bot's own tokens and channel (bot.server.env_from)."""
    client = WebClient(token=env.bot_token, base_url=env.api_url, timeout=10)
    return Notifier(FleetAPI(env.gateway_url, env.fleet_token), client, settings.bot.channel,
                    snooze_hours=settings.bot.snooze_hours, **kw)

