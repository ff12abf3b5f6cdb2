"""Fleet's Slack bot: a client of the gateway that acts for the Slack user who typed or
clicked (`X-Fleet-Act-As`), so the core's rules decide everything.

    build_app(settings, env) -> slack_bolt.App
    asgi_app(settings, env)  -> the ASGI app serving POST /slack/events
"""

from bot.app import BotEnv, build_app
from bot.server import asgi_app, env_from, serve, serve_socket, socket_handler

__all__ = ["BotEnv", "asgi_app", "build_app", "env_from", "serve", "serve_socket",
           "socket_handler"]
