"""How the CLI shows one thing (an invocation, a run, a rollout, an audit trail); lists are
fleet.cli.lists'."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)
STATUS_STYLE = {  # a status's colour, in lists and records
    "succeeded": "green", "failed": "red", "timed_out": "red", "cancelled": "yellow",
    "running": "cyan", "queued": "blue", "approved": "green", "rejected": "red",
    "expired": "yellow", "pending": "blue", "rolled_back": "red",
    "progressing": "cyan", "awaiting_approval": "yellow", "paused": "yellow",
    "finished": "green"}


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
    if rec.get("progress"):
        console.print("[bold]progress[/] " + ", ".join(
            f"{k}={v:,.0f}" if isinstance(v, (int, float)) and abs(v) >= 100 else f"{k}={v}"
            for k, v in rec["progress"].items()))
    if rec.get("error"):
        err = rec["error"]
        console.print(f"[red]error[/] {err.get('type')}: {err.get('message')}")
    if rec.get("result") is not None:
        console.print("[bold]result[/]")
        console.print_json(json.dumps(rec["result"], default=str))


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def usage(rows: list[dict], by: str, since: str, currency: str | None) -> None:
    """Resource-seconds (and cost, with prices configured) per function or caller."""
    _usage_table(f"usage by {by} since {since}", [by, "invocations"], "run_s", rows, currency)


def serving_usage(rows: list[dict], since: str, currency: str | None) -> None:
    """Replica-seconds per served model version."""
    if rows:
        _usage_table(f"serving since {since}", ["model", "version"], "replica_s", rows,
                     currency)


def _usage_table(title: str, keys: list[str], time_col: str, rows: list[dict],
                 currency: str | None) -> None:
    """One row per `keys`: its time column, CPU- and GPU-seconds, and cost when priced."""
    t = Table(*keys, time_col, "cpu_s", "gpu_s", *(["cost"] if currency else []), title=title)
    for r in rows:
        cells = [*(str(r[k]) for k in keys), f"{r[time_col]:.1f}", f"{r['cpu_s']:.1f}",
                 f"{r['gpu_s']:.1f}"]
        if currency:
            cells.append(f"{r['cost']:.4f} {currency}")
        t.add_row(*cells)
    console.print(t)


def run_detail(run: dict, steps: dict[int, dict[str, float]]) -> None:
    for key in ("id", "experiment", "status", "params", "data_uri", "data_fingerprint",
                "code_version", "checkpoint_uri", "artifacts", "error"):
        if run.get(key) not in (None, {}, ""):
            console.print(f"[bold]{key:16}[/] {run[key]}")
    keys = sorted({k for m in steps.values() for k in m})
    t = Table("step", *keys)
    for step, m in sorted(steps.items()):
        t.add_row(str(step), *(f"{m[k]:.5g}" if k in m else "" for k in keys))
    console.print(t)


def table(rows: list[dict]) -> None:
    """A generic table (run comparison)."""
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k != "run", k))
    t = Table(*keys)
    for r in rows:
        t.add_row(*(f"{r[k]:.5g}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                    for k in keys))
    console.print(t)


def audit(rows: list[dict]) -> None:
    """Audit entries, one line each: when, who, what, on what, and the why when a change
    gives one (`--json` has every detail)."""
    t = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1))
    t.add_column("id", no_wrap=True, min_width=4)
    t.add_column("at (UTC)", no_wrap=True, min_width=11)
    t.add_column("actor", no_wrap=True, overflow="ellipsis", max_width=14)
    t.add_column("action", no_wrap=True, min_width=16)
    t.add_column("resource", no_wrap=True, overflow="ellipsis", max_width=22)
    t.add_column("why", no_wrap=True, overflow="ellipsis")
    for r in rows:
        d = r["detail"] if isinstance(r["detail"], dict) else {}
        why = d.get("reason") or d.get("comment") or ""
        t.add_row(str(r["id"]), (r["at"] or "")[5:16].replace("T", " "), r["actor"],
                  r["action"], r["resource"], str(why)[:40])
    console.print(t)


def model_versions(name: str, versions: list[dict], aliases: dict[str, int],
                   history: list[dict]) -> None:
    by_version: dict[int, list[str]] = {}
    for a, v in aliases.items():
        by_version.setdefault(v, []).append(a)
    t = Table("version", "aliases", "run", "metrics", "artifact")
    for v in versions:
        metrics = ", ".join(f"{k}={x:.4g}" for k, x in v["metrics"].items()
                            if isinstance(x, (int, float)))
        t.add_row(str(v["version"]), ", ".join(by_version.get(v["version"], [])),
                  v["run_id"] or "", metrics, v["artifact_uri"])
    console.print(t)
    if history:
        h = Table("alias", "from", "to", "by", "reason", title=f"{name}: alias history")
        for e in history:
            h.add_row(e["alias"], str(e["from_version"] or "-"), str(e["to_version"] or "-"),
                      e["actor"], e["reason"])
        console.print(h)


def _when(ts: float | None) -> str:
    import time as _t

    return "" if not ts else _t.strftime("%H:%M:%S", _t.localtime(ts))


def ladder_line(e: dict) -> str:
    """One rollout event as a line of the ladder the demo and `fleet rollout` print."""
    d = e.get("detail") or {}
    a = d.get("analysis") or {}
    bits = [f"{_when(e['at'])}  {e['kind']:<18}", f"{e.get('to_status') or '':<17}"]
    if e.get("weight") is not None and e["kind"] in ("started", "step", "promoting"):
        bits.append(f"weight {e['weight']:g}%")
    if a:
        sr, p99 = a.get("success_rate"), a.get("p99_ms")
        sr_text = "-" if sr is None else f"{sr:.1f}%"
        p99_text = "-" if p99 is None else f"{p99:.0f} ms"
        bits.append(f"check {a['result']}: {a['requests']:g} req, success {sr_text}, "
                    f"p99 {p99_text}")
        if a.get("reasons") and a["result"] != "pass":
            bits.append("(" + "; ".join(a["reasons"]) + ")")
    if d.get("approval_id"):
        bits.append(f"approval {d['approval_id']}" + (f" by {d['approved_by']}"
                                                      if d.get("approved_by") else ""))
    if d.get("reason") and not a:
        bits.append(d["reason"])
    return "  ".join(bits)


def rollout_detail(r: dict, events: list[dict]) -> None:
    console.print(f"[bold]{r['id']}[/] {r['strategy']} on {r['endpoint']}: "
                  f"{status_text(r['status'])} at {r['weight']:g}%")
    for e in events:
        console.print(ladder_line(e), highlight=False)

