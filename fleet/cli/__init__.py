"""The `fleet` command line. Every command ends in the same Python API the gateway uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from fleet import lifecycle, messages
from fleet.cli import rag, render
from fleet.cli.common import JSON_OPT, LIMIT_OPT, TOKEN_OPT
from fleet.cli.common import identity_of as _identity
from fleet.cli.common import open_client as _client
from fleet.cli.drift import drift_app
from fleet.cli.outbox import outbox_app
from fleet.config import load_settings
from fleet.errors import FieldProblem, FleetError, InvalidInput, exit_code
from fleet.runtime import Client
from fleet.runtime.payloads import parse_key_values

app = typer.Typer(help="Fleet: ML functions on Ray. Start with `fleet up`.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
schedules_app = typer.Typer(help="List, add and remove schedules.", invoke_without_command=True)
app.add_typer(schedules_app, name="schedules")
tokens_app = typer.Typer(help="List, add and revoke tokens (stored as hashes).",
                         invoke_without_command=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(outbox_app, name="outbox")
app.add_typer(drift_app, name="drift")
app.command()(rag.ingest)
app.command()(rag.ask)

def _progress(msg: str) -> None:
    render.err_console.print(f"[dim]…[/] {msg}")


@app.command()
def up(workers: int = typer.Option(0, "--workers", min=0, max=16,
                                   help="Also start N local worker nodes (multi-node on one "
                                        "machine; needs PostgreSQL and S3 or shared storage)."),
       address: Optional[str] = typer.Option(None, "--address", metavar="HOST:PORT",
                                             help="Attach to a running Ray cluster's GCS "
                                                  "instead of starting a head.")) -> None:
    """Start a local Ray head, the supervisor, the scheduler and the gateway (idempotent)."""
    with render.err_console.status("starting Fleet"):
        info = lifecycle.up(progress=_progress, workers=workers, address=address)
    settings = load_settings()
    from fleet.serving import router_url

    where = lifecycle.admin_token_path(settings)
    token = messages.ADMIN_TOKEN_AT.format(
        path=where if where.exists() else settings.config_path)
    render.console.print(f"[green]Fleet is up.[/]\n  gateway   {info.gateway_url}\n"
                         f"  router    {router_url(settings)}/endpoints/NAME\n"
                         f"  dashboard {info.dashboard_url}\n  ray       {info.address}"
                         f"{' (attached)' if info.attached else ''}\n"
                         + (f"  workers   {len(info.worker_pids)} local worker node(s)\n"
                            if info.worker_pids else "")
                         + f"  token     {token}")


@app.command()
def demo() -> None:
    """Run the end-to-end demo on built-in data (starts Fleet if needed)."""
    from fleet import demo as demo_mod

    demo_mod.run()


@app.command()
def bot(mode: Optional[str] = typer.Argument(
            None, metavar="[console|notify]",
            help="console: the bot here, no workspace. notify: only the outbox notifier."),
        as_: Optional[str] = typer.Option(None, "--as",
                                          help="console: act as this Fleet identity."),
        port: Optional[int] = typer.Option(None, "--port",
                                           help="HTTP port (default bot.port, 3000)."),
        socket: bool = typer.Option(False, "--socket",
                                    help="Socket Mode: Slack's websocket, no public URL."),
        notify: bool = typer.Option(True, "--notify/--no-notify",
                                    help="Also deliver outbox events to Slack (default)."),
        lease_s: float = typer.Option(30.0, "--lease-s", min=0.5, max=3600,
                                      help="notify: how long a claimed event is ours."),
        ) -> None:
    """Run the Slack bot: POST /slack/events for commands, interactivity and events, and
    the notifier that posts rollouts and approvals (any number may run at once)."""
    import importlib

    settings = load_settings()
    if mode == "console":
        from fleet.cluster import ClusterInfo

        info = ClusterInfo.read(settings)
        if info is None:
            raise FleetError(messages.NOT_UP)
        importlib.import_module("bot.console").run(
            settings, info.gateway_url, _client().store, sys.stdin, person=as_)
        return
    if mode not in (None, "notify"):
        raise InvalidInput(messages.BOT_MODE.format(mode=mode), [FieldProblem(
            "mode", "unknown", "Use `fleet bot`, `fleet bot --socket`, `fleet bot notify` or "
                               "`fleet bot console`.")])
    # by import string: fleet never imports the bot package (it is a client of the core)
    server = importlib.import_module("bot.server")
    if mode == "notify":
        render.err_console.print(f"Slack notifier for {settings.bot.channel}")
        server.serve_notifier(settings, lease_s=lease_s)
        return
    if socket:
        render.err_console.print("Slack bot in Socket Mode")
        server.serve_socket(settings, notify=notify, lease_s=lease_s)
        return
    host, chosen = settings.bot.host, settings.bot.port if port is None else port
    render.err_console.print(f"Slack bot on http://{host}:{chosen}/slack/events")
    server.serve(settings, port=chosen, notify=notify, lease_s=lease_s)


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
def functions(json_out: bool = JSON_OPT,
              usage: bool = typer.Option(False, "--usage", help="Resource-seconds (and cost, "
                                         "with usage prices set) of finished invocations "
                                         "and of served model versions."),
              by: str = typer.Option("function", "--by", help="function or caller"),
              since: str = typer.Option("30d", "--since", help="e.g. 1h, 7d, 30d")) -> None:
    """List the registered functions, or what their invocations used (--usage)."""
    client = _client()
    if not usage:
        specs = [s.describe() for s in client.registry]
        render.as_json(specs) if json_out else render.functions(specs)
        return
    from fleet.usage import usage_report

    report = usage_report(client.store, load_settings(), by=by, since=since)
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
    client = _client()
    who = _identity(token, client=client).require("invoke")
    if via == "job":
        rec = _invoke_as_job(client, who, name, payload)
    elif via == "cli":
        with render.err_console.status(f"running {name}"):
            inv = client.invoke(name, payload, caller=who.name, via="cli",
                                idempotency_key=idempotency_key, wait=not async_)
        rec = inv.public()
    else:
        raise InvalidInput(messages.CLI_BAD_VIA, [FieldProblem("--via", via, "cli|job")])
    render.as_json(rec) if json_out else render.invocation(rec)
    if not async_ and rec["status"] != "succeeded":
        raise typer.Exit(1)


def _invoke_as_job(client: Client, who, name: str, payload: dict) -> dict:
    from fleet import jobs

    spec = client.registry.get(name)  # unknown names fail here, not minutes later in a job
    from fleet.runtime.payloads import validate_payload

    validate_payload(spec, payload)
    args = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in payload.items()]
    job_id, token_id = jobs.submit_as(client.settings, client.store, who, name, args,
                                      ttl_s=spec.timeout_s + 600)
    try:
        with render.err_console.status(f"Ray job {job_id}") as spinner:
            status, logs = jobs.wait(
                client.settings, job_id,
                on_status=lambda s: spinner.update(f"Ray job {job_id}: {s}"))
    finally:
        jobs.release(client.store, token_id, who)
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
def cancel(inv_id: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Cancel a queued or running invocation."""
    client = _client()
    who = _identity(token, client=client).require("invoke")
    inv = client.cancel(inv_id, caller=who.name)
    render.invocation(inv.public())


@app.command()
def runs(experiment: Optional[str] = typer.Option(None, "--experiment", "-e"),
         compare: Optional[list[str]] = typer.Option(None, "--compare", "-c",
                                                     help="Run ids to compare side by side."),
         limit: int = typer.Option(20, "--limit", "-n"), json_out: bool = JSON_OPT) -> None:
    """List training runs, or compare some (--compare ID --compare ID)."""
    store = _client().store
    if compare:
        rows = store.runs.compare([store.runs.get(c).id for c in compare])
        render.as_json(rows) if json_out else render.table(rows)
        return
    rows = [r.public() for r in store.runs.list(experiment=experiment, limit=limit)]
    render.as_json(rows) if json_out else render.runs(rows)


@app.command()
def run(run_id: str, json_out: bool = JSON_OPT) -> None:
    """Show one run: params, lineage, and its metrics per step as a table."""
    store = _client().store
    r = store.runs.get(run_id).public()
    steps = store.runs.metrics(r["id"])
    render.as_json({**r, "metrics": steps}) if json_out else render.run_detail(r, steps)


@app.command()
def models(limit: int = LIMIT_OPT, json_out: bool = JSON_OPT) -> None:
    """List registered models with their latest version and aliases."""
    rows = _client().store.models.models(limit=limit)
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
          reason: str = typer.Option(..., "--reason", "-r", help="Why (kept in history)."),
          token: Optional[str] = TOKEN_OPT) -> None:
    """Point ALIAS of model NAME at VERSION (one audited transaction). A protected alias
    opens an approval request instead."""
    from fleet.approvals import Approvals

    client = _client()
    who = _identity(token, client=client)
    out = Approvals(client.store, client.settings).move_alias(
        model=name, alias=alias_name, version=version, who=who, reason=reason)
    if not out["moved"]:
        ap = out["approval"]
        render.console.print(messages.ALIAS_NEEDS_APPROVAL.format(
            model=name, alias=alias_name, id=ap.id, role=ap.role))
        return
    render.console.print(f"{name}@{alias_name} -> v{version}")


@app.command()
def endpoints(limit: int = LIMIT_OPT, json_out: bool = JSON_OPT) -> None:
    """List serving endpoints with their routing tables."""
    rows = [e.public() for e in _client().store.endpoints.list(limit=limit)]
    render.as_json(rows) if json_out else render.endpoints(rows)


@app.command()
def rollouts(endpoint: Optional[str] = typer.Option(None, "--endpoint", "-e"),
             active: bool = typer.Option(False, "--active", help="Only active ones."),
             limit: int = LIMIT_OPT, json_out: bool = JSON_OPT) -> None:
    """List rollouts, newest first."""
    rows = [r.public() for r in _client().store.rollouts.list(
        endpoint=endpoint, active=True if active else None, limit=limit)]
    render.as_json(rows) if json_out else render.rollouts(rows)


@app.command("rollout")
def rollout_cmd(rollout_id: str, json_out: bool = JSON_OPT) -> None:
    """Show one rollout and its ladder of events. (Steer it with `fleet invoke rollout`.)"""
    store = _client().store
    r = store.rollouts.get(rollout_id).public()
    events = store.rollouts.events(r["id"])
    render.as_json({**r, "events": events}) if json_out else render.rollout_detail(r, events)


@app.command()
def approvals(all_: bool = typer.Option(False, "--all", help="Decided ones too."),
              limit: int = LIMIT_OPT, json_out: bool = JSON_OPT) -> None:
    """List approval requests (pending ones by default), newest first."""
    rows = [a.public() for a in _client().store.approvals.list(
        status=None if all_ else "pending", limit=limit)]
    render.as_json(rows) if json_out else render.approvals(rows)


def _decide(approval_id: str, approve: bool, comment: str, token: str | None) -> None:
    from fleet.approvals import Approvals

    client = _client()
    who = _identity(token, required=True, client=client)
    ap = Approvals(client.store, client.settings).decide(approval_id, who, approve=approve,
                                                         comment=comment)
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
def schedules(ctx: typer.Context, limit: int = LIMIT_OPT, json_out: bool = JSON_OPT) -> None:
    """List schedules, newest first (or use a subcommand)."""
    if ctx.invoked_subcommand is None:
        rows = [s.public() for s in _client().store.schedules.list(limit=limit)]
        render.as_json(rows) if json_out else render.schedules(rows)


@schedules_app.command("add")
def schedules_add(name: str, function: str,
                  schedule: str = typer.Argument(..., help="cron ('*/5 * * * *') or '@every 30s'"),
                  args: Optional[list[str]] = typer.Argument(None),
                  token: Optional[str] = TOKEN_OPT) -> None:
    """Add a schedule that invokes FUNCTION with key=value inputs."""
    from fleet.runtime.payloads import validate_payload
    from fleet.scheduler.slots import parse_schedule

    client = _client()
    who = _identity(token, client=client).require("admin")
    parse_schedule(schedule)
    data = validate_payload(client.registry.get(function), parse_key_values(args or []))
    s = client.store.schedules.add(name=name, function=function, spec=schedule, payload=data,
                                   actor=who.name)
    render.schedules([s.public()])


@schedules_app.command("remove")
def schedules_remove(name: str, token: Optional[str] = TOKEN_OPT) -> None:
    """Remove a schedule added at run time."""
    client = _client()
    client.store.schedules.remove(name, _identity(token, client=client).require("admin").name)
    render.console.print(f"Removed schedule '{name}'.")


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


@app.command()
def backup(dest: Path = typer.Argument(..., help="The file to write (a SQLite database)."),
           overwrite: bool = typer.Option(False, "--overwrite"),
           token: Optional[str] = TOKEN_OPT) -> None:
    """Back up the store while Fleet runs (SQLite; PostgreSQL: use pg_dump)."""
    from fleet.store.backup import backup as take

    client = _client()
    _identity(token, client=client).require("admin")
    done = take(load_settings().resolved_store_url, dest, overwrite=overwrite)
    render.console.print(messages.BACKUP_DONE.format(**done), highlight=False)


def main() -> None:
    try:
        app()
    except FleetError as err:
        render.err_console.print(f"[red]error:[/] {err}", highlight=False)
        sys.exit(exit_code(err))
    except KeyboardInterrupt:
        sys.exit(130)
