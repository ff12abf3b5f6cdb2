"""Socket Mode against a local websocket server standing in for Slack's: the bot gets its
URL from apps.connections.open (on the fake Web API), acknowledges each envelope over the
socket, and answers through the Web API, as it does over HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import websockets

from tests.support.fake_slack import FakeSlack


class SlackSocket:
    """Sends one slash-command envelope to whoever connects and records the acks."""

    def __init__(self, envelope: dict) -> None:
        self.envelope, self.acks = envelope, []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def main():
            async def session(ws):
                await ws.send(json.dumps({"type": "hello", "num_connections": 1}))
                await ws.send(json.dumps(self.envelope))
                async for message in ws:
                    self.acks.append(json.loads(message))

            self.server = await websockets.serve(session, "127.0.0.1", 0)
            self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/link"
            ready.set()
            await self.server.wait_closed()

        threading.Thread(target=self.loop.run_until_complete, args=(main(),),
                         daemon=True).start()
        ready.wait(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)


def wait_for(cond, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return cond()
        time.sleep(0.05)
    raise AssertionError("not met in time")


def test_a_slash_command_over_socket_mode_is_acked_and_answered(tmp_path):
    from bot import BotEnv, socket_handler
    from fleet.config import load_settings

    slack = FakeSlack()
    socket = SlackSocket({"envelope_id": "env-1", "type": "slash_commands",
                          "accepts_response_payload": True, "payload": {
                              "command": "/fleet", "text": "help", "user_id": "UBOB",
                              "channel_id": "CROLL", "team_id": "T1", "api_app_id": "A1",
                              "trigger_id": "1.2.3", "token": "legacy"}})
    slack.ws_url = socket.url
    env = BotEnv(bot_token="xoxb-test", signing_secret="unused", fleet_token="unused",
                 gateway_url="http://127.0.0.1:9", api_url=slack.url, app_token="xapp-test")
    handler = socket_handler(load_settings(tmp_path), env)
    try:
        handler.connect()
        acks = wait_for(lambda: [a for a in socket.acks if a.get("envelope_id") == "env-1"])
        assert len(acks) == 1
        said = wait_for(lambda: slack.of("chat.postEphemeral"))
        assert "runs Fleet from Slack" in said[0]["text"] and said[0]["user"] == "UBOB"
        assert slack.of("apps.connections.open")
    finally:
        handler.close()
        socket.stop()
        slack.stop()


def test_a_request_with_a_bad_signature_is_refused_and_its_body_never_logged(tmp_path, caplog):
    """Bolt logs a refused request's body at INFO; the bot keeps the line without it."""
    import logging
    from urllib.parse import urlencode

    from slack_bolt.request import BoltRequest

    from bot import BotEnv
    from bot.app import build_app
    from fleet.config import load_settings

    slack = FakeSlack()
    env = BotEnv(bot_token="xoxb-test", signing_secret="the-real-secret",
                 fleet_token="unused", gateway_url="http://127.0.0.1:9", api_url=slack.url)
    try:
        app = build_app(load_settings(tmp_path), env)
        body = urlencode({"command": "/fleet", "text": "run hello secret=xoxp-pasted-token",
                          "user_id": "UBOB", "channel_id": "CROLL", "team_id": "T1"})
        with caplog.at_level(logging.DEBUG, logger="slack_bolt.RequestVerification"):
            resp = app.dispatch(BoltRequest(body=body, headers={
                "x-slack-request-timestamp": [str(int(time.time()))],
                "x-slack-signature": ["v0=forged"],
                "content-type": ["application/x-www-form-urlencoded"]}))
        assert resp.status == 401
        assert "invalid Slack signature" in caplog.text
        assert "xoxp-pasted-token" not in caplog.text and "v0=forged" not in caplog.text
    finally:
        slack.stop()
