"""The `fleet` command line. Every command ends in the same Python API the gateway uses.

One module per command group registers on `fleet.cli.app.app`; other packages add their
own groups through the `fleet.cli` entry point (the Slack bot adds `fleet bot`), so the
core names none of them."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

from rich.markup import escape

# Each module registers its commands on the app, in `fleet --help`'s order.
# isort: off
from fleet.cli import cluster_cmds, invocation_cmds, model_cmds  # noqa: F401
from fleet.cli import approval_cmds, audit_cmds, doctor_cmds, schedule_cmds, token_cmds  # noqa: F401
from fleet.cli import rag, render
# isort: on
from fleet.cli.app import app
from fleet.cli.drift import drift_app
from fleet.cli.outbox import outbox_app
from fleet.errors import FleetError, exit_code

app.add_typer(outbox_app, name="outbox")
app.add_typer(drift_app, name="drift")
app.command()(rag.ingest)
app.command()(rag.ask)
PLUGIN_GROUP = "fleet.cli"  # entry points: `name = "module:register"`, register(app)


def _plugins() -> None:
    for ep in entry_points(group=PLUGIN_GROUP):
        ep.load()(app)


def main() -> None:
    _plugins()
    try:
        app()
    except FleetError as err:
        # the message as written: a pattern or a value with [brackets] is not markup
        render.err_console.print(f"[red]error:[/] {escape(str(err))}", highlight=False)
        sys.exit(exit_code(err))
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]
