"""The `fleet` Typer app that every command module registers on, and the progress line
long commands print."""

from __future__ import annotations

import typer
from rich.markup import escape

from fleet.cli import render

app = typer.Typer(help="Fleet: ML functions on Ray. Start with `fleet up`.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def progress(msg: str) -> None:
    render.err_console.print(f"[dim]…[/] {escape(msg)}")
