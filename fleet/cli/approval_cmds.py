"""`fleet approvals`, `approve` and `reject`: the four-eyes gates, decided by the core."""

from __future__ import annotations

from typing import Optional

import typer

from fleet.cli import columns, lists, render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, OUTPUT_OPT, TOKEN_OPT, acting, output_of


@app.command()
def approvals(all_: bool = typer.Option(False, "--all", help="Decided ones too."),
              limit: int = LIMIT_OPT, json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
              token: Optional[str] = TOKEN_OPT) -> None:
    """List approval requests (pending ones by default), newest first."""
    svc, who = acting(token)
    rows = [a.public() for a in svc.approvals.list(
        who, status=None if all_ else "pending", limit=limit)]
    lists.show(rows, columns.APPROVALS, output_of(output, json_out))


def _decide(approval_id: str, approve: bool, comment: str, token: str | None) -> None:
    svc, who = acting(token, required=True)
    ap = svc.approvals.decide(who, approval_id, approve=approve, comment=comment)
    render.console.print(f"{ap.id} {render.status_text(ap.status)} by {ap.decided_by} "
                         f"({ap.gate} gate of {ap.target})")


@app.command()
def approve(approval_id: str, comment: str = typer.Option("", "--comment", "-m"),
            token: Optional[str] = TOKEN_OPT) -> None:
    """Approve a request as the identity of --token / FLEET_TOKEN."""
    _decide(approval_id, True, comment, token)


@app.command()
def reject(approval_id: str, comment: str = typer.Option("", "--comment", "-m"),
           token: Optional[str] = TOKEN_OPT) -> None:
    """Reject a request as the identity of --token / FLEET_TOKEN."""
    _decide(approval_id, False, comment, token)
