"""`fleet tokens` (list), `tokens add` and `tokens revoke` (stored as hashes)."""

from __future__ import annotations

from typing import Optional

import typer

from fleet import messages
from fleet.cli import render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, TOKEN_OPT, acting

tokens_app = typer.Typer(help="List, add and revoke tokens (stored as hashes).",
                         invoke_without_command=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.callback()
def tokens(ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Revoked too."),
           limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
           token: Optional[str] = TOKEN_OPT) -> None:
    """List tokens (names, scopes, roles; never the tokens), or use a subcommand."""
    if ctx.invoked_subcommand is None:
        svc, who = acting(token)
        rows = [t.public() for t in svc.tokens.list(who, include_revoked=all_)][:limit]
        render.as_json(rows) if json_out else render.table(rows)


@tokens_app.command("add")
def tokens_add(name: str,
               scopes: str = typer.Option("read,invoke", "--scopes",
                                          help="Comma-separated: read, invoke, admin, act_as, "
                                               "notify."),
               roles: str = typer.Option("", "--roles", help="Comma-separated, e.g. approver."),
               token: Optional[str] = TOKEN_OPT) -> None:
    """Add an identity's token. It is printed once; Fleet keeps only its hash."""
    svc, who = acting(token)
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    role_list = [r.strip() for r in roles.split(",") if r.strip()]
    raw, _ = svc.tokens.add(who, name, scopes=scope_list, roles=role_list)
    render.console.print(messages.TOKEN_CREATED.format(
        name=name, scopes=", ".join(scope_list) or "none", roles=", ".join(role_list) or "none",
        token=raw), highlight=False)


@tokens_app.command("revoke")
def tokens_revoke(name: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Revoke an identity's tokens (or one token by id). Once this returns, no gateway
    accepts them."""
    svc, who = acting(token)
    ids = svc.tokens.revoke(who, name)  # returns once every gateway has reloaded the table
    render.console.print(f"Revoked {len(ids)} token(s) of '{name}'.")
