"""What the command line's modules share: options, the client, who runs a command."""

from __future__ import annotations

import typer

from fleet import messages
from fleet.config import load_settings
from fleet.errors import FieldProblem, InvalidInput
from fleet.runtime import Client

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table (-o json).")
OUTPUT_OPT = typer.Option("table", "--output", "-o", metavar="table|wide|json|yaml",
                          help="table: fits the terminal; wide: every column; json, yaml.")


def output_of(output: str, json_out: bool = False) -> str:
    """The list format a command was asked for (--json is -o json)."""
    from fleet.cli.lists import check_output

    return "json" if json_out else check_output(output)
LIMIT_OPT = typer.Option(20, "--limit", "-n", min=1, help="Show at most this many, newest first.")
TOKEN_OPT = typer.Option(None, "--token", envvar="FLEET_TOKEN",
                         help="Act as this token's identity; without one, as local-admin.")


def open_client() -> Client:
    return Client(load_settings())


def acting(token: str | None, *, required: bool = False):
    """The installation's services and who runs this command (see identity_of)."""
    from fleet.services import Services

    svc = Services(open_client())
    return svc, identity_of(token, required=required, client=svc.client)


def identity_of(token: str | None, *, required: bool = False, client: Client | None = None):
    """Who runs this command: the identity of --token / FLEET_TOKEN, checked like the
    gateway checks it (a revoked token is refused), or `local-admin` without one."""
    from fleet.identity import Identities, local_admin

    if token:
        client = client or open_client()
        return Identities(client.settings, client.store).identify(token)
    if required:
        raise InvalidInput(messages.APPROVAL_NEEDS_IDENTITY, [FieldProblem(
            "--token", "missing", "Pass --token or set FLEET_TOKEN.")])
    return local_admin()
