"""`fleet functions`, `invoke`, `invocations`, `invocation` and `cancel`."""

from __future__ import annotations

import json
from typing import Optional

import typer

from fleet import messages
from fleet.cli import columns, lists, render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, OUTPUT_OPT, TOKEN_OPT, acting, output_of
from fleet.errors import FieldProblem, InvalidInput
from fleet.runtime import Client
from fleet.runtime.payloads import parse_key_values


@app.command()
def functions(json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
              usage: bool = typer.Option(False, "--usage", help="Resource-seconds (and cost, "
                                         "with usage prices set) of finished invocations "
                                         "and of served model versions."),
              by: str = typer.Option("function", "--by", help="function or caller"),
              since: str = typer.Option("30d", "--since", help="e.g. 1h, 7d, 30d"),
              token: Optional[str] = TOKEN_OPT) -> None:
    """List the registered functions, or what their invocations used (--usage)."""
    svc, who = acting(token)
    if not usage:
        specs = [s.describe() for s in svc.client.registry]
        lists.show(specs, columns.FUNCTIONS, output_of(output, json_out))
        return
    report = svc.usage.report(who, by=by, since=since)
    if json_out:
        render.as_json(report)
    else:
        render.usage(report["rows"], by, since, report["currency"])
        render.serving_usage(report["serving"], since, report["currency"])


@app.command(context_settings={"allow_extra_args": False})
def invoke(
    name: str = typer.Argument(..., help="Function name (see `fleet functions`)."),
    args: Optional[list[str]] = typer.Argument(None, help="Inputs as key=value (JSON values)."),
    json_input: Optional[str] = typer.Option(None, "--json-input", "-j",
                                             help="The whole input as a JSON object."),
    async_: bool = typer.Option(False, "--async", help="Return at once with the invocation id."),
    via: str = typer.Option("cli", "--via", help="cli (direct) or job (as a Ray job)."),
    idempotency_key: Optional[str] = typer.Option(None, "--idempotency-key"),
    json_out: bool = JSON_OPT,
    token: Optional[str] = TOKEN_OPT,
) -> None:
    """Invoke a function and show its invocation record."""
    payload = parse_key_values(args or [])
    if json_input:
        try:
            extra = json.loads(json_input)
        except ValueError as exc:
            raise InvalidInput(messages.BAD_JSON_OPTION.format(reason=exc),
                               [FieldProblem("--json-input", "not JSON", "Quote a JSON object.")]
                               ) from None
        if not isinstance(extra, dict):
            raise InvalidInput(messages.BAD_JSON_OPTION.format(reason="not an object"))
        payload = {**extra, **payload}
    svc, who = acting(token)
    who.require("invoke")
    if via == "job":
        rec = _invoke_as_job(svc.client, who, name, payload)
    elif via == "cli":
        with render.err_console.status(f"running {name}"):
            inv = svc.invocations.invoke(who, name, payload, via="cli",
                                         idempotency_key=idempotency_key, wait=not async_)
        rec = inv.public()
    else:
        raise InvalidInput(messages.CLI_BAD_VIA, [FieldProblem("--via", via, "cli|job")])
    render.as_json(rec) if json_out else render.invocation(rec)
    if not async_ and rec["status"] != "succeeded":
        raise typer.Exit(1)


def _invoke_as_job(client: Client, who, name: str, payload: dict) -> dict:
    from fleet import jobs

    with render.err_console.status(f"submitting {name} as a Ray job") as spinner:
        inv = jobs.run_as(client, who, name, payload, on_status=lambda job_id, s:
                          spinner.update(f"Ray job {job_id}: {s}"))
    return inv.public()


@app.command()
def invocations(function: Optional[str] = typer.Option(None, "--function", "-f"),
                status_: Optional[str] = typer.Option(None, "--status"),
                via: Optional[str] = typer.Option(None, "--via"),
                limit: int = typer.Option(20, "--limit", "-n"),
                json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
                token: Optional[str] = TOKEN_OPT) -> None:
    """List recent invocations, newest first."""
    svc, who = acting(token)
    rows = [i.public() for i in svc.invocations.list(who, function=function, status=status_,
                                                     via=via, limit=limit)]
    lists.show(rows, columns.INVOCATIONS, output_of(output, json_out))


@app.command()
def invocation(inv_id: str, wait: bool = typer.Option(False, "--wait"),
               json_out: bool = JSON_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """Show one invocation (optionally wait until it ends)."""
    svc, who = acting(token)
    inv = svc.invocations.get(who, inv_id, wait=wait)
    render.as_json(inv.public()) if json_out else render.invocation(inv.public())


@app.command()
def cancel(inv_id: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Cancel a queued or running invocation."""
    svc, who = acting(token)
    inv = svc.invocations.cancel(who, inv_id)
    render.invocation(inv.public())
