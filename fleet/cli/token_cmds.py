"""`fleet tokens` (list), `tokens add` and `tokens revoke` (stored as hashes)."""

from __future__ import annotations

from typing import Optional

import typer

from fleet import messages
from fleet.cli import columns, lists, render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, OUTPUT_OPT, TOKEN_OPT, acting, output_of

tokens_app = typer.Typer(help="List, add and revoke tokens (stored as hashes).",
                         invoke_without_command=True)
app.add_typer(tokens_app, name="tokens")


ALL_OPT = typer.Option(False, "--all", help="Revoked and expired too.")


@tokens_app.callback()
def tokens(ctx: typer.Context, all_: bool = ALL_OPT, limit: int = LIMIT_OPT,
           json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
           token: Optional[str] = TOKEN_OPT) -> None:
    """List tokens (names, scopes, roles; never the tokens), or use a subcommand."""
    if ctx.invoked_subcommand is None:
        tokens_list(all_, limit, json_out, output, token)


@tokens_app.command("list")
def tokens_list(all_: bool = ALL_OPT, limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
                output: str = OUTPUT_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """List tokens (names, scopes, roles; never the tokens)."""
    svc, who = acting(token)
    rows = [t.public() for t in svc.tokens.list(who, include_revoked=all_)][:limit]
    lists.show(rows, columns.TOKENS, output_of(output, json_out))


@tokens_app.command("add")
def tokens_add(name: str,
               scopes: str = typer.Option("read,invoke", "--scopes",
                                          help="Comma-separated: read, invoke, admin, act_as, "
                                               "notify."),
               roles: str = typer.Option("", "--roles", help="Comma-separated, e.g. approver."),
               rotate: bool = typer.Option(False, "--rotate",
                                           help="A second token with the active one's scopes "
                                                "and roles; revoke the old one by id later."),
               token: Optional[str] = TOKEN_OPT) -> None:
    """Add an identity's token. It is printed once; Fleet keeps only its hash."""
    svc, who = acting(token)
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    role_list = [r.strip() for r in roles.split(",") if r.strip()]
    raw, rec = svc.tokens.add(who, name, scopes=scope_list, roles=role_list, rotate=rotate)
    scope_list, role_list = rec.scopes, rec.roles  # a rotation keeps the person's own
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
