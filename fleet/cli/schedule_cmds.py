"""`fleet schedules` (list), `schedules add` and `schedules remove`."""

from __future__ import annotations

from typing import Optional

import typer

from fleet.cli import columns, lists, render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, OUTPUT_OPT, TOKEN_OPT, acting, output_of
from fleet.runtime.payloads import parse_key_values

schedules_app = typer.Typer(help="List, add and remove schedules.", invoke_without_command=True)
app.add_typer(schedules_app, name="schedules")


@schedules_app.callback()
def schedules(ctx: typer.Context, limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
              output: str = OUTPUT_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """List schedules, newest first (or use a subcommand)."""
    if ctx.invoked_subcommand is None:
        schedules_list(limit, json_out, output, token)


@schedules_app.command("list")
def schedules_list(limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
                   output: str = OUTPUT_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """List schedules, newest first."""
    svc, who = acting(token)
    rows = [s.public() for s in svc.schedules.list(who, limit=limit)]
    lists.show(rows, columns.SCHEDULES, output_of(output, json_out))


@schedules_app.command("add")
def schedules_add(name: str, function: str,
                  schedule: str = typer.Argument(..., help="cron ('*/5 * * * *') or '@every 30s'"),
                  args: Optional[list[str]] = typer.Argument(None),
                  token: Optional[str] = TOKEN_OPT) -> None:
    """Add a schedule that invokes FUNCTION with key=value inputs."""
    svc, who = acting(token)
    s = svc.schedules.add(who, name=name, function=function, spec=schedule,
                          payload=parse_key_values(args or []))
    lists.show([s.public()], columns.SCHEDULES)


@schedules_app.command("remove")
def schedules_remove(name: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Remove a schedule added at run time."""
    svc, who = acting(token)
    svc.schedules.remove(who, name)
    render.console.print(f"Removed schedule '{name}'.")
