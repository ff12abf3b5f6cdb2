"""The columns of each list the CLI prints (fleet.cli.lists): what matters most keeps its
place at 80 columns (priority 0 and 1), the rest drops first or waits for `-o wide`."""

from __future__ import annotations

from fleet.cli.lists import Col


def _version(ref: dict | None) -> str:
    return f"{ref['model']}:{ref['version']}" if ref else ""


def _routing(routing: dict) -> str:
    parts = [f"{v['model']}:{v['version']} {v['weight']:g}%" for v in routing["versions"]]
    if routing.get("shadow"):
        parts.append(f"shadow {_version(routing['shadow'])}")
    return ("bandit: " if routing.get("strategy") == "bandit" else "") + ", ".join(parts)


def _summary(summary: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in summary.items())


INVOCATIONS = (
    Col("ID", lambda r: r["id"], 0, kind="id"),
    Col("FUNCTION", lambda r: r["function"], 0),
    Col("STATUS", lambda r: r["status"], 0, kind="status"),
    Col("CREATED", lambda r: r["created_at"], 1, kind="time"),
    Col("DURATION", lambda r: f"{r['duration_s']:.2f}s" if r.get("duration_s") is not None
        else "", 2),
    Col("CALLER", lambda r: r["caller"], 3),
    Col("VIA", lambda r: r["via"], 4),
    Col("CPU_S", lambda r: (r.get("usage") or {}).get("cpu_s"), wide=True),
    Col("GPU_S", lambda r: (r.get("usage") or {}).get("gpu_s"), wide=True),
)

RUNS = (
    Col("ID", lambda r: r["id"], 0, kind="id"),
    Col("EXPERIMENT", lambda r: r["experiment"], 0),
    Col("STATUS", lambda r: r["status"], 0, kind="status"),
    Col("CREATED", lambda r: r["created_at"], 1, kind="time"),
    Col("SUMMARY", lambda r: _summary(r["summary"]), 2, cut=True),
    Col("DATA", lambda r: (r.get("data_fingerprint") or "")[:19], wide=True),
)

APPROVALS = (
    Col("ID", lambda r: r["id"], 0, kind="id"),
    Col("STATUS", lambda r: r["status"], 0, kind="status"),
    Col("TARGET", lambda r: r["target"], 1),
    Col("BY", lambda r: r["requested_by"], 2),
    Col("EXPIRES", lambda r: r["expires_at"], 3, kind="time"),
    Col("SUMMARY", lambda r: r["summary"], 4, cut=True),
    Col("GATE", lambda r: r["gate"], 5),
    Col("ROLE", lambda r: r["role"], wide=True),
    Col("DECIDED BY", lambda r: r.get("decided_by"), wide=True),
)

ROLLOUTS = (
    Col("ID", lambda r: r["id"], 0, kind="id"),
    Col("ENDPOINT", lambda r: r["endpoint"], 0),
    Col("STATUS", lambda r: r["status"], 0, kind="status"),
    Col("WEIGHT", lambda r: f"{r['weight']:g}%", 1),
    Col("CANDIDATE", lambda r: _version(r["candidate"]), 1),
    Col("UPDATED", lambda r: r["updated_at"], 2, kind="time"),
    Col("STRATEGY", lambda r: r["strategy"], 3),
    Col("BASELINE", lambda r: _version(r.get("baseline")), 4),
    Col("BY", lambda r: r["created_by"], 5),
)

MODELS = (
    Col("MODEL", lambda r: r["model"], 0),
    Col("LATEST", lambda r: r["latest"], 0),
    Col("VERSIONS", lambda r: r["versions"], 2),
    Col("ALIASES", lambda r: ", ".join(f"{a}->v{v}" for a, v in sorted(r["aliases"].items())),
        1),
)

ENDPOINTS = (
    Col("ENDPOINT", lambda r: r["name"], 0),
    Col("ROUTING", lambda r: _routing(r["routing"]), 1, cut=True),
    Col("ROLLOUT", lambda r: r.get("active_rollout"), 2),
    Col("GENERATION", lambda r: r["generation"], 3),
)

SCHEDULES = (
    Col("NAME", lambda r: r["name"], 0),
    Col("FUNCTION", lambda r: r["function"], 0),
    Col("SCHEDULE", lambda r: r["schedule"], 1),
    Col("LAST SLOT", lambda r: r.get("last_slot"), 2, kind="time"),
    Col("ORIGIN", lambda r: r["origin"], 3),
    Col("INPUT", lambda r: r.get("input"), 4, cut=True),
)

TOKENS = (
    Col("ID", lambda r: r["id"], 0, kind="id"),
    Col("NAME", lambda r: r["name"], 0),
    Col("SCOPES", lambda r: r["scopes"], 1),
    Col("ROLES", lambda r: r["roles"], 1),
    Col("CREATED", lambda r: r["created_at"], 2, kind="time"),
    Col("EXPIRES", lambda r: r.get("expires_at"), 3, kind="time"),
    Col("KIND", lambda r: r["kind"], 4),
    Col("REVOKED", lambda r: r.get("revoked_at"), 5, kind="time"),
    Col("BY", lambda r: r.get("created_by"), wide=True),
)

FUNCTIONS = (
    Col("NAME", lambda r: r["name"], 0),
    Col("DESCRIPTION", lambda r: r["description"], 1, cut=True),
    Col("CPUS", lambda r: f"{r['resources']['cpus']:g}", 2),
    Col("GPUS", lambda r: f"{r['resources']['gpus']:g}", 3),
    Col("TIMEOUT", lambda r: f"{r['timeout_s']:g}s", 4),
    Col("RETRIES", lambda r: r["retries"], 5),
    Col("SCHEDULE", lambda r: r.get("schedule"), 6),
)

__all__ = ["APPROVALS", "ENDPOINTS", "FUNCTIONS", "INVOCATIONS", "MODELS", "ROLLOUTS", "RUNS",
           "SCHEDULES", "TOKENS"]
