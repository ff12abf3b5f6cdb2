"""`fleet bot`: the Slack app, its notifier, or the bot here with no workspace (console).

The bot is a client of the core: it adds this command to the `fleet` CLI through the
`fleet.cli` entry point (pyproject.toml), so fleet itself never imports the bot."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from bot import console, server
from bot import messages as bot_messages
from fleet import messages
from fleet.cli import render
from fleet.cli.common import acting
from fleet.config import load_settings
from fleet.errors import FieldProblem, FleetError, InvalidInput


def register(app: typer.Typer) -> None:
    """Add `fleet bot` to the `fleet` app (the `fleet.cli` entry point)."""
    app.command()(bot)


def bot(mode: Optional[str] = typer.Argument(
            None, metavar="[console|notify]",
            help="console: the bot here, no workspace. notify: only the outbox notifier."),
        as_: Optional[str] = typer.Option(None, "--as",
                                          help="console: act as this Fleet identity."),
        port: Optional[int] = typer.Option(None, "--port",
                                           help="HTTP port (default bot.port, 3000)."),
        socket: bool = typer.Option(False, "--socket",
                                    help="Socket Mode: Slack's websocket, no public URL."),
        notify: bool = typer.Option(True, "--notify/--no-notify",
                                    help="Also deliver outbox events to Slack (default)."),
        lease_s: float = typer.Option(30.0, "--lease-s", min=0.5, max=3600,
                                      help="notify: how long a claimed event is ours."),
        ) -> None:
    """Run the Slack bot: POST /slack/events for commands, interactivity and events, and
    the notifier that posts rollouts and approvals (any number may run at once)."""
    settings = load_settings()
    if mode == "console":
        from fleet.cluster import ClusterInfo

        info = ClusterInfo.read(settings)
        if info is None:
            raise FleetError(messages.NOT_UP)
        svc, _ = acting(None)  # the local admin mints the session's client token
        console.run(settings, info.gateway_url, svc, sys.stdin, person=as_)
        return
    if mode not in (None, "notify"):
        raise InvalidInput(bot_messages.BOT_MODE.format(mode=mode), [FieldProblem(
            "mode", "unknown", "Use `fleet bot`, `fleet bot --socket`, `fleet bot notify` or "
                               "`fleet bot console`.")])
    if mode == "notify":
        render.err_console.print(f"Slack notifier for {settings.bot.channel}")
        server.serve_notifier(settings, lease_s=lease_s)
        return
    if socket:
        render.err_console.print("Slack bot in Socket Mode")
        server.serve_socket(settings, notify=notify, lease_s=lease_s)
        return
    host, chosen = settings.bot.host, settings.bot.port if port is None else port
    render.err_console.print(f"Slack bot on http://{host}:{chosen}/slack/events")
    server.serve(settings, port=chosen, notify=notify, lease_s=lease_s)
