"""The `fleet` command line. Every command ends in the same Python API the gateway uses."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from fleet import lifecycle, messages
from fleet.cli import render
from fleet.config import load_settings
from fleet.errors import FieldProblem, FleetError, InvalidInput, exit_code
from fleet.runtime import Client, default_caller
from fleet.runtime.payloads import parse_key_values

app = typer.Typer(help="Fleet: ML functions on Ray. Start with `fleet up`.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
schedules_app = typer.Typer(help="List, add and remove schedules.", invoke_without_command=True)
app.add_typer(schedules_app, name="schedules")

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table.")
TOKEN_OPT = typer.Option(None, "--token", envvar="FLEET_TOKEN",
                         help="Act as this token's identity (from fleet.yaml).")


def _client() -> Client:
    return Client(load_settings())


def _identity(token: str | None, *, required: bool = False):
    """Who runs this command: the token's identity, or the OS user without one."""
    from fleet.gateway.auth import Identity, TokenAuth

    if token:
        return TokenAuth(load_settings()).identify(f"Bearer {token}")
    if required:
        raise InvalidInput(messages.APPROVAL_NEEDS_IDENTITY, [FieldProblem(
            "--token", "missing", "Pass --token or set FLEET_TOKEN.")])
    return Identity(default_caller(), frozenset({"read", "invoke", "admin"}))


def _progress(msg: str) -> None:
    render.err_console.print(f"[dim]…[/] {msg}")


@app.command()
def up() -> None:
    """Start a local Ray head, the supervisor, the scheduler and the gateway (idempotent)."""
    with render.err_console.status("starting Fleet"):
        info = lifecycle.up(progress=_progress)
    settings = load_settings()
    token = settings.tokens[0].token if settings.tokens else "(none configured)"
    from fleet.serving import router_url

    render.console.print(f"[green]Fleet is up.[/]\n  gateway   {info.gateway_url}\n"
                         f"  router    {router_url(settings)}/endpoints/NAME\n"
                         f"  dashboard {info.dashboard_url}\n  ray       {info.address}\n"
                         f"  token     {token}  (from {settings.config_path})")


@app.command()
def demo() -> None:
    """Run the end-to-end demo on built-in data (starts Fleet if needed)."""
    from fleet import demo as demo_mod

    demo_mod.run()


@app.command()
def down() -> None:
    """Stop the gateway and the Ray head started by `fleet up`. Stored data stays."""
    stopped = lifecycle.down(progress=_progress)
    render.console.print("Fleet is down." if stopped else messages.NOT_UP)


@app.command()
def status(json_out: bool = JSON_OPT) -> None:
    """Show whether Fleet is up, where, and what it holds."""
    st = lifecycle.status()
    if st["up"]:
        client = _client()
        counts: dict[str, int] = {}
        for _f, s, _v, n in client.store.invocations.counts():
            counts[s] = counts.get(s, 0) + n
        st.update(functions=len(client.registry), invocations=counts,
                  schedules=len(client.store.schedules.list()))
    if json_out:
        render.as_json(st)
    else:
        for k, v in st.items():
            render.console.print(f"[bold]{k:16}[/] {v}")
    if not st["up"]:
        raise typer.Exit(3)


@app.command()
def functions(json_out: bool = JSON_OPT) -> None:
    """List the registered functions."""
    specs = [s.describe() for s in _client().registry]
    render.as_json(specs) if json_out else render.functions(specs)


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
    client = _client()
    if via == "job":
        rec = _invoke_as_job(client, name, payload)
    elif via == "cli":
        with render.err_console.status(f"running {name}"):
            inv = client.invoke(name, payload, caller=_identity(token).name, via="cli",
                                idempotency_key=idempotency_key, wait=not async_)
        rec = inv.public()
    else:
        raise InvalidInput("--via must be cli or job.", [FieldProblem("--via", via, "cli|job")])
    render.as_json(rec) if json_out else render.invocation(rec)
    if not async_ and rec["status"] != "succeeded":
        raise typer.Exit(1)


def _invoke_as_job(client: Client, name: str, payload: dict) -> dict:
    from fleet import jobs

    client.registry.get(name)  # unknown names fail here, not minutes later in a job
    from fleet.runtime.payloads import validate_payload

    validate_payload(client.registry.get(name), payload)
    args = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in payload.items()]
    job_id = jobs.submit(client.settings, name, args, caller=default_caller())
    with render.err_console.status(f"Ray job {job_id}") as spinner:
        status, logs = jobs.wait(client.settings, job_id,
                                 on_status=lambda s: spinner.update(f"Ray job {job_id}: {s}"))
    found = [i for i in client.list(via="job", function=name, limit=200)
             if i.ray_job_id == job_id]
    if not found:
        raise FleetError(messages.JOB_FAILED.format(job_id=job_id, status=status, message=logs))
    return found[0].public()


@app.command()
def invocations(function: Optional[str] = typer.Option(None, "--function", "-f"),
                status_: Optional[str] = typer.Option(None, "--status"),
                via: Optional[str] = typer.Option(None, "--via"),
                limit: int = typer.Option(20, "--limit", "-n"),
                json_out: bool = JSON_OPT) -> None:
    """List recent invocations, newest first."""
    rows = [i.public() for i in _client().list(function=function, status=status_, via=via,
                                               limit=limit)]
    render.as_json(rows) if json_out else render.invocations(rows)


@app.command()
def invocation(inv_id: str, wait: bool = typer.Option(False, "--wait"),
               json_out: bool = JSON_OPT) -> None:
    """Show one invocation (optionally wait until it ends)."""
    client = _client()
    inv = client.wait(inv_id) if wait else client.get(inv_id)
    render.as_json(inv.public()) if json_out else render.invocation(inv.public())


@app.command()
def cancel(inv_id: str) -> None:
    """Cancel a queued or running invocation."""
    inv = _client().cancel(inv_id, caller=default_caller())
    render.invocation(inv.public())


@app.command()
def runs(experiment: Optional[str] = typer.Option(None, "--experiment", "-e"),
         compare: Optional[list[str]] = typer.Option(None, "--compare", "-c",
                                                     help="Run ids to compare side by side."),
         limit: int = typer.Option(20, "--limit", "-n"), json_out: bool = JSON_OPT) -> None:
    """List training runs, or compare some (--compare ID --compare ID)."""
    store = _client().store
    if compare:
        rows = store.runs.compare(list(compare))
        render.as_json(rows) if json_out else render.table(rows)
        return
    rows = [r.public() for r in store.runs.list(experiment=experiment, limit=limit)]
    render.as_json(rows) if json_out else render.runs(rows)


@app.command()
def run(run_id: str, json_out: bool = JSON_OPT) -> None:
    """Show one run: params, lineage, and its metrics per step as a table."""
    store = _client().store
    r, steps = store.runs.get(run_id).public(), store.runs.metrics(run_id)
    render.as_json({**r, "metrics": steps}) if json_out else render.run_detail(r, steps)


@app.command()
def models(json_out: bool = JSON_OPT) -> None:
    """List registered models with their latest version and aliases."""
    rows = _client().store.models.models()
    render.as_json(rows) if json_out else render.models(rows)


@app.command()
def model(name: str, json_out: bool = JSON_OPT) -> None:
    """Show a model's versions, aliases and alias history."""
    d = _client().store.models.describe(name)
    if json_out:
        render.as_json(d)
    else:
        render.model_versions(name, d["versions"], d["aliases"], d["history"])


@app.command()
def alias(name: str, alias_name: str = typer.Argument(..., metavar="ALIAS"),
          version: int = typer.Argument(...),
          reason: str = typer.Option(..., "--reason", "-r", help="Why (kept in history).")
          ) -> None:
    """Point ALIAS of model NAME at VERSION (one audited transaction). A protected alias
    opens an approval request instead."""
    client = _client()
    cfg = client.settings.approvals
    if alias_name in cfg.protected_aliases:
        ap = client.store.models.request_alias_move(
            model=name, alias=alias_name, version=version, actor=default_caller(),
            reason=reason, role=cfg.role, ttl_s=cfg.ttl_s)
        render.console.print(messages.ALIAS_NEEDS_APPROVAL.format(
            model=name, alias=alias_name, id=ap.id, role=ap.role))
        return
    client.store.models.move_alias(model=name, alias=alias_name, version=version,
                                   actor=default_caller(), reason=reason)
    render.console.print(f"{name}@{alias_name} -> v{version}")


@app.command()
def endpoints(json_out: bool = JSON_OPT) -> None:
    """List serving endpoints with their routing tables."""
    rows = [e.public() for e in _client().store.endpoints.list()]
    render.as_json(rows) if json_out else render.endpoints(rows)


@app.command()
def rollouts(endpoint: Optional[str] = typer.Option(None, "--endpoint", "-e"),
             active: bool = typer.Option(False, "--active", help="Only active ones."),
             json_out: bool = JSON_OPT) -> None:
    """List rollouts, newest first."""
    rows = [r.public() for r in _client().store.rollouts.list(
        endpoint=endpoint, active=True if active else None)]
    render.as_json(rows) if json_out else render.rollouts(rows)


@app.command("rollout")
def rollout_cmd(rollout_id: str, json_out: bool = JSON_OPT) -> None:
    """Show one rollout and its ladder of events. (Steer it with `fleet invoke rollout`.)"""
    store = _client().store
    r, events = store.rollouts.get(rollout_id).public(), store.rollouts.events(rollout_id)
    render.as_json({**r, "events": events}) if json_out else render.rollout_detail(r, events)


@app.command()
def approvals(all_: bool = typer.Option(False, "--all", help="Decided ones too."),
              json_out: bool = JSON_OPT) -> None:
    """List approval requests (pending ones by default)."""
    rows = [a.public() for a in _client().store.approvals.list(
        status=None if all_ else "pending")]
    render.as_json(rows) if json_out else render.approvals(rows)


def _decide(approval_id: str, approve: bool, comment: str, token: str | None) -> None:
    who = _identity(token, required=True)
    ap = _client().store.approvals.decide(approval_id, actor=who.name, roles=who.roles,
                                          approve=approve, comment=comment)
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


@schedules_app.callback()
def schedules(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List schedules (or use a subcommand)."""
    if ctx.invoked_subcommand is None:
        rows = [s.public() for s in _client().store.schedules.list()]
        render.as_json(rows) if json_out else render.schedules(rows)


@schedules_app.command("add")
def schedules_add(name: str, function: str,
                  schedule: str = typer.Argument(..., help="cron ('*/5 * * * *') or '@every 30s'"),
                  args: Optional[list[str]] = typer.Argument(None)) -> None:
    """Add a schedule that invokes FUNCTION with key=value inputs."""
    from fleet.runtime.payloads import validate_payload
    from fleet.scheduler.slots import parse_schedule

    client = _client()
    parse_schedule(schedule)
    data = validate_payload(client.registry.get(function), parse_key_values(args or []))
    s = client.store.schedules.add(name=name, function=function, spec=schedule, payload=data,
                                   actor=default_caller())
    render.schedules([s.public()])


@schedules_app.command("remove")
def schedules_remove(name: str) -> None:
    """Remove a schedule added at run time."""
    _client().store.schedules.remove(name, default_caller())
    render.console.print(f"Removed schedule '{name}'.")


def main() -> None:
    try:
        app()
    except FleetError as err:
        render.err_console.print(f"[red]error:[/] {err}", highlight=False)
        sys.exit(exit_code(err))
    except KeyboardInterrupt:
        sys.exit(130)
