"""`fleet outbox`: what the notifiers delivered, what they are retrying, and the dead
letters, which `fleet outbox replay` sends again."""

from __future__ import annotations

from typing import Optional

import typer

from fleet import messages
from fleet.cli import render
from fleet.cli.common import JSON_OPT, LIMIT_OPT, TOKEN_OPT, acting
from fleet.outbox import STATES, check_state

outbox_app = typer.Typer(help="Outbox deliveries per consumer (the Slack bot): list, replay.",
                         invoke_without_command=True)
CONSUMER_OPT = typer.Option("slack", "--consumer", "-c", help="Whose deliveries.")


@outbox_app.callback()
def outbox(ctx: typer.Context, consumer: str = CONSUMER_OPT,
           state: Optional[str] = typer.Option(
               None, "--state", "-s", help=f"Only these: {', '.join(STATES)}."),
           limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
           token: Optional[str] = TOKEN_OPT) -> None:
    """List deliveries, newest first: state, attempts, last error. `--state dead` shows the
    dead letters."""
    if ctx.invoked_subcommand is not None:
        return
    check_state(state, "--state")
    svc, who = acting(token)
    rows = svc.outbox.deliveries(who, consumer=consumer, state=state, limit=limit)
    if json_out:
        render.as_json(rows)
        return
    if not rows:
        where = f" in state {state}" if state else ""
        render.console.print(messages.OUTBOX_EMPTY.format(where=f" for '{consumer}'{where}"))
        return
    render.table([{"event": r["event_id"], "kind": r["kind"], "subject": r["subject"],
                   "state": r["state"], "attempts": r["attempts"],
                   "last error": (r["last_error"] or "")[:80]} for r in rows])


@outbox_app.command("replay")
def replay(event_ids: Optional[list[int]] = typer.Argument(
               None, metavar="[EVENT_ID]...", help="Omit to replay every dead letter."),
           consumer: str = CONSUMER_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """Send dead-lettered deliveries again (attempts reset; audited)."""
    svc, who = acting(token)
    n = svc.outbox.replay(who, consumer, list(event_ids) if event_ids else None)
    render.console.print(messages.OUTBOX_REPLAYED.format(n=n, consumer=consumer))
