"""`fleet bot`: the app over HTTP (a real ASGI server, many requests at once: each dispatch
runs in a thread, since Bolt's own ASGI adapter would run it on the event loop), or in
Socket Mode (`--socket`)."""

from __future__ import annotations

import asyncio
import os

from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.request import BoltRequest

from bot.app import SLACK_API, BotEnv, build_app
from fleet import messages
from fleet.errors import DefinitionError


class ThreadedHandler(SlackRequestHandler):
    """POST /slack/events for commands, interactivity and events; one thread per request."""

    async def dispatch(self, request: AsgiHttpRequest):
        bolt = BoltRequest(body=await request.get_raw_body(), query=request.query_string,
                           headers=request.get_headers())
        return await asyncio.to_thread(self.app.dispatch, bolt)


def env_from(settings, environ=os.environ) -> BotEnv:
    def need(name: str, why: str) -> str:
        value = environ.get(name)
        if not value:
            raise DefinitionError(messages.BOT_CONFIG_MISSING.format(name=name, why=why))
        return value

    gateway = settings.bot.gateway_url
    if not gateway:
        from fleet.cluster import ClusterInfo

        info = ClusterInfo.read(settings)
        gateway = info.gateway_url if info else f"http://127.0.0.1:{settings.gateway.port}"
    return BotEnv(bot_token=need("SLACK_BOT_TOKEN", "the bot user's xoxb- token"),
                  signing_secret=need("SLACK_SIGNING_SECRET", "to verify Slack's requests"),
                  fleet_token=need("FLEET_BOT_TOKEN", "its Fleet token, with act_as"),
                  gateway_url=gateway, api_url=environ.get("SLACK_API_URL") or SLACK_API,
                  app_token=environ.get("SLACK_APP_TOKEN"))


def asgi_app(settings, env: BotEnv):
    return ThreadedHandler(build_app(settings, env))


def serve(settings, *, port: int | None = None) -> None:
    import uvicorn

    env = env_from(settings)
    uvicorn.run(asgi_app(settings, env), host=settings.bot.host,
                port=settings.bot.port if port is None else port, log_level="warning")
