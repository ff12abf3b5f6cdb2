"""`fleet up`, `down`, `status`, `demo` and `backup`: the installation itself."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from fleet import lifecycle, messages
from fleet.cli import render
from fleet.cli.app import app, progress
from fleet.cli.common import JSON_OPT, TOKEN_OPT, acting
from fleet.config import load_settings


@app.command()
def up(workers: int = typer.Option(0, "--workers", min=0, max=16,
                                   help="Also start N local worker nodes (multi-node on one "
                                        "machine; needs PostgreSQL and S3 or shared storage)."),
       address: Optional[str] = typer.Option(None, "--address", metavar="HOST:PORT",
                                             help="Attach to a running Ray cluster's GCS "
                                                  "instead of starting a head."),
       wait_s: float = typer.Option(lifecycle.APPS_WAIT_S, "--wait", min=0, metavar="SECONDS",
                                    help="How long to wait for the Serve apps (serving.apps) "
                                         "to serve; 0: return when the gateway answers.")
       ) -> None:
    """Start a local Ray head, the supervisor, the scheduler, the gateway and the Serve apps
    (idempotent); returns once the apps serve, or says which failed and why."""
    with render.err_console.status("starting Fleet"):
        info = lifecycle.up(progress=progress, workers=workers, address=address)
    settings = load_settings()
    states = {}
    if wait_s and settings.serving.apps:
        with render.err_console.status("starting the Serve apps"):
            states = lifecycle.wait_apps(settings, info, progress, wait_s)
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
    _print_apps(states)


def _print_apps(states: dict) -> None:
    """Each app's state; a failed one with its reason and fix (printed literally)."""
    from fleet.serving.app_states import FAILED, RUNNING

    colour = {RUNNING: "green", FAILED: "red"}
    for name, a in states.items():
        render.console.print(f"  app       [bold]{escape(name)}[/] "
                             f"[{colour.get(a.state, 'yellow')}]{a.state}[/]"
                             + (f" at {escape(a.route_prefix)}" if a.route_prefix else ""))
        if a.state == FAILED:
            render.console.print(f"            why: {escape(a.reason)}", highlight=False)
            render.console.print(f"            fix: {escape(a.fix)}", highlight=False)


@app.command()
def demo() -> None:
    """Run the end-to-end demo on built-in data (starts Fleet if needed)."""
    from fleet.cli.demo import run

    run()


@app.command()
def down() -> None:
    """Stop the gateway and the Ray head started by `fleet up`. Stored data stays."""
    stopped = lifecycle.down(progress=progress)
    render.console.print("Fleet is down." if stopped else messages.NOT_UP)


@app.command()
def status(json_out: bool = JSON_OPT) -> None:
    """Show whether Fleet is up, where, and what it holds."""
    st = lifecycle.status()
    if st["up"]:
        svc, who = acting(None)
        st.update(functions=len(svc.client.registry), invocations=svc.invocations.counts(who),
                  schedules=len(svc.schedules.list(who)))
    if json_out:
        render.as_json(st)
    else:
        apps = st.pop("apps", {})
        for k, v in st.items():
            render.console.print(f"[bold]{k:16}[/] {escape(str(v))}")
        for name, a in apps.items():
            render.console.print(f"[bold]{'app ' + escape(name):16}[/] {a['state']}"
                                 + (f" at {escape(a['route_prefix'])}" if a["route_prefix"]
                                    else ""))
            if a["state"] == "failed":
                render.console.print(f"{'':17}why: {escape(a['reason'])}\n"
                                     f"{'':17}fix: {escape(a['fix'])}", highlight=False)
    if not st["up"]:
        raise typer.Exit(3)


@app.command()
def backup(dest: Path = typer.Argument(..., help="The file to write (a SQLite database)."),
           overwrite: bool = typer.Option(False, "--overwrite"),
           token: Optional[str] = TOKEN_OPT) -> None:
    """Back up the store while Fleet runs (SQLite; PostgreSQL: use pg_dump)."""
    svc, who = acting(token)
    done = svc.backup(who, dest, overwrite=overwrite)
    render.console.print(messages.BACKUP_DONE.format(**done), highlight=False)
