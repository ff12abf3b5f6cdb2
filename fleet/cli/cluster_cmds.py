"""`fleet up`, `down`, `status`, `demo` and `backup`: the installation itself."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

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
                                                  "instead of starting a head.")) -> None:
    """Start a local Ray head, the supervisor, the scheduler and the gateway (idempotent)."""
    with render.err_console.status("starting Fleet"):
        info = lifecycle.up(progress=progress, workers=workers, address=address)
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
        for k, v in st.items():
            render.console.print(f"[bold]{k:16}[/] {v}")
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
