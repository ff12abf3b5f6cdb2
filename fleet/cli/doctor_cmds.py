"""`fleet doctor`: what a first run needs, each finding with its fix (fleet.doctor)."""

from __future__ import annotations

import typer
from rich.markup import escape

from fleet.cli import render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT
from fleet.config import load_settings

MARK = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]-[/]"}


@app.command()
def doctor(json_out: bool = JSON_OPT) -> None:
    """Check what Fleet needs here (packages, model weights, Ray's temp path, ports, the
    store, data roots), each problem with its fix. Exit 1 when something would fail."""
    from fleet.doctor import diagnose, failed

    findings = diagnose(load_settings())
    if json_out:
        render.as_json({"ok": not failed(findings), "findings": [f.public() for f in findings]})
    else:
        for f in findings:
            render.console.print(f"{MARK[f.ok]} [bold]{escape(f.check)}[/]: {escape(f.detail)}",
                                 highlight=False)
            if f.ok is False and f.fix:
                render.console.print(f"    fix: {escape(f.fix)}", highlight=False)
        bad = failed(findings)
        render.console.print(
            f"\n{len(bad)} problem(s) found." if bad else "\nNo problems found.",
            highlight=False)
    if failed(findings):
        raise typer.Exit(1)
