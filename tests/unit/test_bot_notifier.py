"""The notifier finding its own lost posts again (bot.notifier), against the Slack stand-in
over HTTP: a message a crashed holder posted is found on any page, and what is stored for
later updates is the channel's id, never its #name."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.notifier import Notifier
from bot.standin import LocalSlack


@pytest.fixture
def slack():
    s = LocalSlack()
    yield s
    s.stop()


def notifier(slack: LocalSlack, channel: str) -> Notifier:
    return Notifier(None, WebClient(token="xoxb-test", base_url=slack.url), channel)


def event(eid: int, attempts: int = 2) -> dict:
    return {"id": eid, "kind": "rollout.created", "subject": "rollout:ro-1", "attempts": attempts}


def meta(eid: int) -> dict:
    return {"event_type": "fleet_rollout", "event_payload": {
        "event_id": eid, "kind": "rollout.created", "subject": "rollout:ro-1"}}


def test_a_message_found_again_after_a_crash_is_stored_with_the_channels_id(slack):
    """A fresh notifier whose first event is one it posted before dying: it finds the post
    and stores the resolved id, so the rollout's later updates reach it (Slack's
    chat.update refuses a #name)."""
    cid = slack.add_channel("fleet-rollouts")
    web = WebClient(token="xoxb-test", base_url=slack.url)
    lost = web.chat_postMessage(channel=cid, text="rollout ro-1", metadata=meta(7))["ts"]
    fresh = notifier(slack, "#fleet-rollouts")
    thread = fresh._post("fleet_rollout", event(7), text="rollout ro-1")
    assert thread == {"channel": cid, "ts": lost}
    assert fresh._update(thread, "rollout ro-1: step 2", [])
    assert slack.messages[cid][0]["text"] == "rollout ro-1: step 2"
    assert len(slack.of("chat.postMessage")) == 1  # found, not posted again


def test_a_lost_reply_in_a_long_thread_is_found_on_its_last_page(slack):
    """Slack answers conversations.replies oldest first, 200 at most per page: the reply a
    crashed holder posted last is past the first page, and is not posted twice."""
    cid = slack.add_channel("fleet-rollouts")
    web = WebClient(token="xoxb-test", base_url=slack.url)
    parent = web.chat_postMessage(channel=cid, text="rollout ro-1")["ts"]
    for i in range(230):
        web.chat_postMessage(channel=cid, thread_ts=parent, text=f"step {i}")
    lost = web.chat_postMessage(channel=cid, thread_ts=parent, text="promoted",
                                metadata=meta(9))["ts"]
    posts = len(slack.of("chat.postMessage"))
    found = notifier(slack, cid)._post("fleet_rollout", event(9), text="promoted",
                                       channel=cid, thread_ts=parent)
    assert found == {"channel": cid, "ts": lost}
    assert len(slack.of("chat.postMessage")) == posts
    pages = [c for c in slack.of("conversations.replies")]
    assert len(pages) == 2 and pages[1]["cursor"] == "200"


def test_a_first_attempt_posts_without_looking(slack):
    cid = slack.add_channel("fleet-rollouts")
    thread = notifier(slack, "#fleet-rollouts")._post("fleet_rollout", event(3, attempts=1),
                                                      text="rollout ro-2")
    assert thread["channel"] == cid and not slack.of("conversations.history")
