"""How the CLI shows things: rich tables for people, --json for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

STATUS_STYLE = {"succeeded": "green", "failed": "red", "timed_out": "red", "cancelled": "yellow",
                "running": "cyan", "queued": "blue"}


def as_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def status_text(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def invocation(rec: dict) -> None:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    for key in ("id", "function", "status", "via", "caller", "attempts", "created_at",
                "started_at", "finished_at", "duration_s", "ray_job_id", "idempotency_key"):
        value = rec.get(key)
        if value is None:
            continue
        t.add_row(key, status_text(value) if key == "status" else str(value))
    console.print(t)
    if rec.get("error"):
        err = rec["error"]
        console.print(f"[red]error[/] {err.get('type')}: {err.get('message')}")
    if rec.get("result") is not None:
        console.print("[bold]result[/]")
        console.print_json(json.dumps(rec["result"], default=str))


def invocations(rows: list[dict]) -> None:
    t = Table("id", "function", "status", "via", "caller", "created", "duration_s")
    for r in rows:
        dur = f"{r['duration_s']:.3f}" if r.get("duration_s") is not None else ""
        t.add_row(r["id"], r["function"], status_text(r["status"]), r["via"], r["caller"],
                  r["created_at"], dur)
    console.print(t)


def functions(specs: list[dict]) -> None:
    t = Table("name", "description", "cpus", "gpus", "timeout_s", "retries", "schedule")
    for s in specs:
        res = s["resources"]
        t.add_row(s["name"], s["description"], f"{res['cpus']:g}", f"{res['gpus']:g}",
                  f"{s['timeout_s']:g}", str(s["retries"]), s["schedule"] or "")
    console.print(t)


def schedules(rows: list[dict]) -> None:
    t = Table("name", "function", "schedule", "origin", "input", "last slot")
    from datetime import datetime, timezone

    for r in rows:
        last = (datetime.fromtimestamp(r["last_slot"], tz=timezone.utc).isoformat(
            timespec="seconds") if r["last_slot"] else "")
        t.add_row(r["name"], r["function"], r["schedule"], r["origin"],
                  json.dumps(r["input"]), last)
    console.print(t)
