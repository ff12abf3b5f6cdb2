"""`fleet tokens` (list), `tokens add` and `tokens revoke` (stored as hashes)."""

from __future__ import annotations

from typing import Optional

import typer

from fleet import messages
from fleet.cli import render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, TOKEN_OPT
from fleet.cli.common import identity_of as _identity
from fleet.cli.common import open_client as _client
from fleet.errors import FieldProblem, InvalidInput

tokens_app = typer.Typer(help="List, add and revoke tokens (stored as hashes).",
                         invoke_without_command=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.callback()
def tokens(ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Revoked too."),
           limit: int = LIMIT_OPT, json_out: bool = JSON_OPT,
           token: Optional[str] = TOKEN_OPT) -> None:
    """List tokens (names, scopes, roles; never the tokens), or use a subcommand."""
    if ctx.invoked_subcommand is None:
        client = _client()
        _identity(token, client=client).require("admin")
        rows = [t.public() for t in client.store.tokens.list(include_revoked=all_)][:limit]
        render.as_json(rows) if json_out else render.table(rows)


@tokens_app.command("add")
def tokens_add(name: str,
               scopes: str = typer.Option("read,invoke", "--scopes",
                                          help="Comma-separated: read, invoke, admin, act_as, "
                                               "notify."),
               roles: str = typer.Option("", "--roles", help="Comma-separated, e.g. approver."),
               token: Optional[str] = TOKEN_OPT) -> None:
    """Add an identity's token. It is printed once; Fleet keeps only its hash."""
    from fleet.config import TokenConfig

    client = _client()
    who = _identity(token, client=client).require("admin")
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    role_list = [r.strip() for r in roles.split(",") if r.strip()]
    try:  # the same rules as fleet.yaml's tokens
        TokenConfig(name=name, token_sha256="0" * 64, scopes=tuple(scope_list),
                    roles=tuple(role_list))
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
        raise InvalidInput(messages.TOKEN_ADD_INVALID.format(name=name, reason=first["msg"]), [
            FieldProblem(
            "--scopes" if "scope" in first["msg"] else "NAME", first["msg"],
            "Scopes: read, invoke, admin, act_as, notify; a name of 1-64 characters.")]) from None
    raw, _ = client.store.tokens.add(name=name, scopes=scope_list, roles=role_list,
                                     actor=who.name)
    render.console.print(messages.TOKEN_CREATED.format(
        name=name, scopes=", ".join(scope_list) or "none", roles=", ".join(role_list) or "none",
        token=raw), highlight=False)


@tokens_app.command("revoke")
def tokens_revoke(name: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Revoke an identity's tokens (or one token by id). Once this returns, no gateway
    accepts them."""
    import time as _time

    from fleet.identity import REFRESH_S

    client = _client()
    who = _identity(token, client=client).require("admin")
    ids = client.store.tokens.revoke(name, actor=who.name)
    _time.sleep(REFRESH_S * 2)  # every gateway has reloaded the table by now
    render.console.print(f"Revoked {len(ids)} token(s) of '{name}'.")
