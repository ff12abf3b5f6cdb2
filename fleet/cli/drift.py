"""`fleet drift`: an endpoint's drift reports, checks now and on a schedule, snoozes.

    fleet drift ENDPOINT             the latest report: each column's method, score, verdict
    fleet drift ENDPOINT --history   scores over time, one row per report
    fleet drift check ENDPOINT       run drift_check now (a recorded invocation) and show it
    fleet drift watch ENDPOINT --every 1h    a schedule of checks (each run an invocation)
    fleet drift unwatch ENDPOINT
    fleet drift snooze ENDPOINT HOURS        hold the endpoint's alerts
"""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich.table import Table
from typer.core import TyperGroup

from fleet.cli import columns, lists, render
from fleet.cli.common import JSON_OPT, LIMIT_OPT, TOKEN_OPT, acting
from fleet.durations import parse_duration


class _ShowByDefault(TyperGroup):
    """`fleet drift NAME` means `fleet drift show NAME`: a name is not a subcommand."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


drift_app = typer.Typer(cls=_ShowByDefault, no_args_is_help=True,
                        help="Drift reports per endpoint: show, check, watch, snooze.")


def schedule_name(endpoint: str) -> str:
    return f"drift:{endpoint}"


@drift_app.command("show")
def show(endpoint: str, history: bool = typer.Option(False, "--history",
                                                     help="Scores over time."),
         limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
         token: Optional[str] = TOKEN_OPT) -> None:
    """The latest drift report of ENDPOINT (or its history)."""
    svc, who = acting(token)
    if history:
        rows = svc.drift.history(who, endpoint, limit=limit)
        if not rows:
            svc.drift.latest(who, endpoint)  # raises the clear "no report yet" error
        render.as_json(rows) if json_out else _history(endpoint, rows)
        return
    report = svc.drift.latest(who, endpoint)
    if json_out:
        render.as_json({**report, "alert_state": svc.drift.alert(who, endpoint)})
        return
    _report(report)


@drift_app.command("check")
def check(endpoint: str,
          window: Optional[str] = typer.Option(None, "--window", help="e.g. 30m, 1h, 2d."),
          json_out: bool = JSON_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """Run a drift check of ENDPOINT now, and show its report."""
    svc, who = acting(token)
    payload = {"endpoint": endpoint, **({"window_s": parse_duration(window, "--window")}
                                        if window else {})}
    inv = svc.invocations.invoke(who, "drift_check", payload, via="cli")
    if inv.status.value != "succeeded":
        render.invocation(inv.public())
        raise typer.Exit(1)
    report = inv.result["report"]
    render.as_json(report) if json_out else _report(report)


@drift_app.command("watch")
def watch(endpoint: str,
          every: str = typer.Option(..., "--every", help="How often: 30m, 1h, 1d."),
          window: Optional[str] = typer.Option(None, "--window",
                                               help="What each check reads (default: --every)."),
          token: Optional[str] = TOKEN_OPT) -> None:
    """Check ENDPOINT for drift on a schedule. A check missed while Fleet was down runs
    once when it is back, not once per missed slot."""
    svc, who = acting(token)
    svc.endpoints.get(who, endpoint)
    period = parse_duration(every, "--every")
    s = svc.schedules.add(
        who, name=schedule_name(endpoint), function="drift_check", spec=f"@every {every}",
        payload={"endpoint": endpoint,
                 "window_s": parse_duration(window, "--window") if window else period},
        max_catchup=1)
    lists.show([s.public()], columns.SCHEDULES)


@drift_app.command("unwatch")
def unwatch(endpoint: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Stop the scheduled drift checks of ENDPOINT."""
    svc, who = acting(token)
    svc.schedules.remove(who, schedule_name(endpoint))
    render.console.print(f"Stopped drift checks of '{endpoint}'.")


@drift_app.command("snooze")
def snooze(endpoint: str, hours: float, token: Optional[str] = TOKEN_OPT) -> None:
    """Hold ENDPOINT's drift alerts for HOURS (0 lifts a snooze)."""
    svc, who = acting(token)
    state = svc.drift.snooze(who, endpoint, hours)
    until = state["snoozed_until"]
    render.console.print(f"Drift alerts of '{endpoint}' held until "
                         f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(until))}."
                         if until else f"Drift alerts of '{endpoint}' are on.")


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t else "-"


def _report(r: dict) -> None:
    version = f"{r['model']}:{r['version']}" if r.get("model") else "-"
    verdict = "[red]drifted[/]" if r["drifted"] else "[green]no drift[/]"
    render.console.print(
        f"[bold]{r['id']}[/] {r['endpoint'] or '(adhoc)'} {version}  {verdict}  "
        f"{len(r['drifted_columns'])}/{len(r['columns'])} columns "
        f"(dataset drift at {r['drift_share']:.0%})  alert: {r['alert']}")
    render.console.print(f"window {_when(r['window_start'])} .. {_when(r['window_end'])} UTC, "
                         f"{r['current_rows']} rows against {r['reference_rows']} reference "
                         f"rows ({r['reference'].get('kind', '?')})")
    t = Table("column", "kind", "method", "score", "threshold", "drifted", "psi")
    for c in r["columns"]:
        t.add_row(c["column"], c["kind"], c["method"], f"{c['score']:.4g}",
                  f"{c['threshold']:g}", "[red]yes[/]" if c["drifted"] else "no",
                  f"{c['psi']:.3f}")
    render.console.print(t)
    perf = (r.get("detail") or {}).get("performance")
    if perf:
        render.console.print(_performance(perf))
    for name, uri in (r.get("plots") or {}).items():
        render.console.print(f"plot {name}: {uri}")


def _fig(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _performance(p: dict) -> str:
    """Realised from labels next to the CBPE estimate and the figure at registration."""
    verdict = "  [red]degraded[/]" if p["degraded"] else ""
    return (f"{p['version']} {p['metric']}: realised {_fig(p['realised'])} on "
            f"{p['labelled']} labelled rows ({p['labels_received']} labels received), "
            f"estimated {_fig(p['estimated'])} from confidence"
            f"{'' if p['calibrated'] else ' (uncalibrated)'}, at registration "
            f"{_fig(p['registered'])} ({p['registered_from'] or 'none'}){verdict}")


def _history(endpoint: str, rows: list[dict]) -> None:
    columns = sorted({c for r in rows for c in r["scores"]})
    t = Table("at (UTC)", "report", "version", "drifted", "realised", "estimated", *columns,
              title=f"drift of {endpoint}")
    for r in rows:
        cells = []
        for c in columns:
            s = r["scores"].get(c)
            cells.append("-" if s is None else
                         (f"[red]{s['score']:.3g}[/]" if s["drifted"] else f"{s['score']:.3g}"))
        p = r.get("performance") or {}
        t.add_row(_when(r["created_at"]), r["id"], f"{r['model']}:{r['version']}",
                  "[red]yes[/]" if r["drifted"] else "no", _fig(p.get("realised")),
                  _fig(p.get("estimated")), *cells)
    render.console.print(t)
