"""`fleet audit`: who changed what and when (`--resource`, `--since`), what served an
endpoint at a given time (`fleet audit serving ENDPOINT --at TIME`) and a check of the hash
chain (`fleet audit verify`). The admin scope or the auditor role."""

from __future__ import annotations

from typing import Optional

import typer

from fleet.cli import render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, TOKEN_OPT, acting

audit_app = typer.Typer(help="The audit trail: list, serving, verify.",
                        invoke_without_command=True)
app.add_typer(audit_app, name="audit")
TIME_HELP = "A time (2026-12-07T14:30:00Z), an epoch, or how long ago (30m, 2h, 7d)."


@audit_app.callback()
def audit(ctx: typer.Context,
          resource: Optional[str] = typer.Option(None, "--resource", "-r",
                                                 help="e.g. endpoint:churn, model:churn."),
          actor: Optional[str] = typer.Option(None, "--actor", help="Who did it."),
          action: Optional[str] = typer.Option(None, "--action",
                                               help="e.g. endpoint.routing, or endpoint."),
          since: Optional[str] = typer.Option(None, "--since", help=TIME_HELP),
          limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
          token: Optional[str] = TOKEN_OPT) -> None:
    """List state changes, newest first (or use a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    svc, who = acting(token)
    rows = svc.audit.entries(who, resource=resource, actor=actor, action=action, since=since,
                             limit=limit)
    if json_out:
        render.as_json(rows)
        return
    render.audit(rows)


@audit_app.command("serving")
def serving(endpoint: str,
            at: Optional[str] = typer.Option(None, "--at", help=TIME_HELP + " Default: now."),
            json_out: bool = JSON_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """What served ENDPOINT at a time, since when, set by whom, and who approved it."""
    svc, who = acting(token)
    s = svc.audit.serving(who, endpoint, at)
    if json_out:
        render.as_json(s)
        return
    versions = ", ".join(f"{v['model']}:{v['version']} {v['weight']:g}%" for v in s["versions"])
    out = render.console.print
    out(f"[bold]{endpoint}[/] at {s['at']}: {versions}", highlight=False)
    out(f"  since {s['since']}, set by {s['set_by']} ({s['reason']})", highlight=False)
    for ap in s["approvals"]:
        out(f"  {ap['gate']} gate {ap['status']} by {ap['decided_by']} at {ap['decided_at']} "
            f"({ap['id']})", highlight=False)
    if s["rollout"] and not s["approvals"]:
        out(f"  rollout {s['rollout']} had no approval gate", highlight=False)


@audit_app.command("verify")
def verify(json_out: bool = JSON_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """Recompute the audit log's hash chain; exit 1 naming each edited or deleted row."""
    svc, who = acting(token)
    v = svc.audit.verify(who)
    if json_out:
        render.as_json(v)
    else:
        for p in v["problems"]:
            what = f"row {p['id']}" if "id" in p else f"seal {p['seal']}"
            render.console.print(f"[red]{what}: {p['problem']}[/]", highlight=False)
        render.console.print(
            f"{'ok' if v['ok'] else 'BROKEN'}: {v['rows']} rows in {v['seals']} seals checked, "
            f"{v['unsealed']} not sealed yet; head {v['head']}", highlight=False)
    if not v["ok"]:
        raise typer.Exit(1)
