"""`fleet bot`: the app over HTTP (a real ASGI server, many requests at once: each dispatch
runs in a thread, since Bolt's own ASGI adapter would run it on the event loop), or in
Socket Mode (`fleet bot --socket`)."""

from __future__ import annotations

import asyncio
import os

from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.request import BoltRequest

from bot import messages as bot_messages
from bot.app import SLACK_API, BotEnv, build_app
from fleet.errors import DefinitionError


class ThreadedHandler(SlackRequestHandler):
    """POST /slack/events for commands, interactivity and events; one thread per request."""

    async def dispatch(self, request: AsgiHttpRequest):
        bolt = BoltRequest(body=await request.get_raw_body(), query=request.query_string,
                           headers=request.get_headers())
        return await asyncio.to_thread(self.app.dispatch, bolt)


def env_from(settings, environ=os.environ, *, socket: bool = False,
             notifier_only: bool = False) -> BotEnv:
    def need(name: str, why: str) -> str:
        value = environ.get(name)
        if not value:
            raise DefinitionError(bot_messages.BOT_CONFIG_MISSING.format(name=name, why=why))
        return value

    gateway = settings.bot.gateway_url
    if not gateway:
        from fleet.cluster import ClusterInfo

        info = ClusterInfo.read(settings)
        gateway = info.gateway_url if info else f"http://127.0.0.1:{settings.gateway.port}"
    if notifier_only:  # it only calls Slack, nothing calls it
        app_token, secret = None, "unused-by-the-notifier"
    elif socket:  # requests come over Slack's websocket, not signed HTTP
        app_token = need("SLACK_APP_TOKEN", "the app-level xapp- token, for Socket Mode")
        secret = environ.get("SLACK_SIGNING_SECRET") or "unused-in-socket-mode"
    else:
        app_token = environ.get("SLACK_APP_TOKEN")
        secret = need("SLACK_SIGNING_SECRET", "to verify Slack's requests")
    return BotEnv(bot_token=need("SLACK_BOT_TOKEN", "the bot user's xoxb- token"),
                  signing_secret=secret,
                  fleet_token=need("FLEET_BOT_TOKEN", "its Fleet token, with act_as"),
                  gateway_url=gateway, api_url=environ.get("SLACK_API_URL") or SLACK_API,
                  app_token=app_token)


def asgi_app(settings, env: BotEnv):
    return ThreadedHandler(build_app(settings, env))


def socket_handler(settings, env: BotEnv):
    """The same app over Socket Mode: Slack's websocket (its URL from apps.connections.open
    on SLACK_API_URL), no public endpoint needed. `.connect()` or `.start()` it."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = build_app(settings, env)
    return SocketModeHandler(app, app_token=env.app_token, web_client=app.client)


def _log_to_stderr() -> None:
    """The bot runs for days: say what it does, with times (never its secrets)."""
    import logging

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per claim otherwise


def _notifier(settings, env: BotEnv, lease_s: float):
    from bot.notifier import from_env

    _log_to_stderr()
    return from_env(settings, env, lease_s=lease_s)


def serve_notifier(settings, *, lease_s: float = 30.0) -> None:
    """`fleet bot notify`: only the outbox notifier (no Slack requests come here). Run as
    many as you like: claims keep each event to one of them."""
    env = env_from(settings, notifier_only=True)
    _notifier(settings, env, lease_s).run()


def serve_socket(settings, *, notify: bool = True, lease_s: float = 30.0) -> None:
    env = env_from(settings, socket=True)
    if notify:
        _notifier(settings, env, lease_s).start()
    socket_handler(settings, env).start()


def serve(settings, *, port: int | None = None, notify: bool = True,
          lease_s: float = 30.0) -> None:
    import uvicorn

    env = env_from(settings)
    if notify:
        _notifier(settings, env, lease_s).start()
    uvicorn.run(asgi_app(settings, env), host=settings.bot.host,
                port=settings.bot.port if port is None else port, log_level="warning")
