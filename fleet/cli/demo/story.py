"""`fleet demo`: the whole story so far, end to end, on embedded defaults.

Starts Fleet (or reuses it), makes a dataset with a known flaw, then runs validate_data
through every entry point: Python, HTTP sync and async, a Ray job, a schedule; trains,
evaluates and registers a model; then serves it and rolls out new versions
(fleet.cli.demo.serving). It prints what happened and where to look next, and leaves Fleet up
until `fleet down`.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from rich.table import Table

from fleet import jobs, lifecycle, messages
from fleet.cli import render
from fleet.cli.common import identity_of
from fleet.cli.demo.common import (
    APPROVER_NAME,
    DEMO,
    DemoError,
    Transcript,
    console,
    step,
    svc,
)
from fleet.cli.demo.data import CHECKS, make_data
from fleet.cli.demo.drift import Recorded, drift_story
from fleet.cli.demo.rag import knowledge_story
from fleet.cli.demo.serving import serving_story
from fleet.config import load_settings
from fleet.runtime import Client
from fleet.serving import router_url


def _show(rec: dict) -> None:
    if "id" not in rec:  # a problem document, not an invocation
        raise DemoError(f"{rec.get('title', 'error')}: {rec.get('detail', rec)}")
    dur = rec.get("duration_s")
    res = rec.get("result") or {}
    verdict = "" if "passed" not in res else (" passed" if res["passed"] else
                                              f" found {len(res['failures'])} problem(s)")
    console.print(f"  {rec['id']}  via={rec['via']:<8} status={rec['status']:<9} "
                  f"{(dur or 0):.2f}s{verdict}")


def run() -> None:
    try:
        _run()
    except DemoError as exc:
        hint = ("\nFleet was started by an older version; restart it: "
                ".venv/bin/fleet down && make demo") if "No function named" in str(exc) else ""
        console.print(f"[red]The demo stopped:[/] {exc}{hint}")
        raise SystemExit(1) from None


def _checked() -> None:
    """`fleet doctor` first: a missing weights package, a port in use or a Ray temp path
    too long stops the demo here with the fix, not at the step that would fail."""
    from rich.markup import escape

    from fleet.config import default_home
    from fleet.doctor import diagnose, failed

    findings = diagnose(lifecycle.ensure_config(default_home()))
    bad = failed(findings)
    console.print(f"  {len(findings) - len(bad)} of {len(findings)} checks passed")
    for f in bad:
        console.print(f"  [red]✗ {escape(f.check)}[/]: {escape(f.detail)}\n"
                      f"    fix: {escape(f.fix)}")
    if bad:
        raise DemoError(messages.DEMO_DOCTOR_FAILED)


def _run() -> None:
    step(0, "Check this machine (fleet doctor)")
    _checked()
    step(1, "Start Fleet (a local Ray head, supervisor, scheduler, HTTP gateway)")
    info = lifecycle.up(progress=lambda m: console.print(f"  … {m}"))
    settings = load_settings()
    client = Client(settings)
    token = lifecycle.admin_token(settings)
    console.print(f"  gateway {info.gateway_url}   dashboard {info.dashboard_url}")

    step(2, "Make a demo dataset (and an export with real-world flaws)")
    good, bad = make_data(settings.home / "data" / "demo")
    console.print(f"  {good}\n  {bad}")

    step(3, "validate_data from Python: the clean table")
    rec = client.invoke("validate_data", {"path": str(good), **CHECKS}, via="python").public()
    _show(rec)

    step(4, "validate_data over HTTP: the flawed export")
    with httpx.Client(base_url=info.gateway_url, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        rec = http.post("/v1/functions/validate_data/invoke",
                        json={"path": str(bad), **CHECKS}).json()
        _show(rec)
        table = Table("check", "column", "observed", "threshold", box=None)
        for f in rec["result"]["failures"]:
            table.add_row(f["check"], f["column"] or "", str(f["observed"])[:40],
                          str(f["threshold"])[:40])
        console.print(table)

        step(5, "Async over HTTP: spawn, get 202 + Location, poll")
        r = http.post("/v1/functions/validate_data/spawn", json={"path": str(good), **CHECKS},
                      headers={"Idempotency-Key": f"demo-{int(time.time())}"})
        console.print(f"  {r.status_code} Location: {r.headers['location']}")
        while (rec := http.get(r.headers["location"]).json())["status"] in ("queued",
                                                                             "running"):
            time.sleep(0.2)
        _show(rec)

    step(6, "As a Ray job (what `ray job submit ... python -m fleet.jobs` does)")
    # The job gets a token of its own that expires and is revoked when it ends: the admin
    # token never travels to Ray (its job API and logs show a job's environment).
    inv = jobs.run_as(client, identity_of(token, client=client), "validate_data",
                      {"path": str(good)}, on_status=lambda _, s: console.print(f"  job {s}"))
    _show(inv.public())

    step(7, "On a schedule: every 2 s, twice")
    name = f"demo-{int(time.time())}"
    svc(client).schedules.add(DEMO, name=name, function="validate_data", spec="@every 2s",
                              payload={"path": str(good), "min_rows": 1000})
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            runs = [i for i in client.list(via="schedule", function="validate_data", limit=50)
                    if i.caller == f"schedule:{name}" and i.done]
            if len(runs) >= 2:
                break
            time.sleep(0.5)
    finally:
        svc(client).schedules.remove(DEMO, name)
    for inv in runs[:2]:
        _show(inv.public())

    _model_lifecycle(client, info, token, good, settings.home)
    serving_story(client, info, token, good)
    knowledge_story(client, step)
    drift_story(client, info, f"{router_url(settings)}/endpoints/churn", good, step,
                Recorded(Transcript()), APPROVER_NAME)

    console.rule("[bold green]Done")
    console.print(f"""Fleet stays up for you to explore:
  gateway   {info.gateway_url}   (OpenAPI at {info.gateway_url}/docs)
  token     {messages.ADMIN_TOKEN_AT.format(path=lifecycle.admin_token_path(settings))}
  dashboard {info.dashboard_url}

  curl -s -X POST {info.gateway_url}/v1/functions/hello/invoke \\
       -H "Authorization: Bearer $(cat {lifecycle.admin_token_path(settings)})" \\
       -d '{{"name": "you"}}'
  .venv/bin/fleet functions
  .venv/bin/fleet invocations
  .venv/bin/fleet invoke validate_data path={good} min_rows=100
  .venv/bin/fleet runs; .venv/bin/fleet models; .venv/bin/fleet model churn
  .venv/bin/fleet endpoints; .venv/bin/fleet rollouts; .venv/bin/fleet approvals --all
  .venv/bin/fleet ask "What does the warm option of a function do?" --kb fleet-docs
  .venv/bin/fleet drift churn --history; .venv/bin/fleet bot console --as admin
  .venv/bin/fleet audit --resource endpoint:churn; .venv/bin/fleet audit verify
  .venv/bin/fleet down          # stop it (data stays in {settings.home})""")


def _model_lifecycle(client: Client, info, token: str, good: Path, home: Path) -> None:
    """train -> evaluate (quality gate) -> champion alias -> batch_infer."""
    step(8, "train on Ray Train (2 workers, a checkpoint every epoch)")
    holdout, _ = make_data(home / "data" / "demo" / "holdout", rows=2000, seed=11)
    with httpx.Client(base_url=info.gateway_url, timeout=600,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        rec = http.post("/v1/functions/train/invoke?wait=300", json={
            "data": str(good), "features": ["age", "income"], "label": "churned",
            "epochs": 3, "lr": 0.01, "experiment": "churn"}).json()
        _show(rec)
        if rec["status"] != "succeeded":
            console.print(f"[red]train failed:[/] {rec['error']}")
            return
        trained = rec["result"]
        render.run_detail(svc(client).runs.get(DEMO, trained["run_id"]).public(),
                          svc(client).runs.metrics(DEMO, trained["run_id"]))
        ref = f"churn:{trained['version']}"

        step(9, f"evaluate {ref} on a holdout, with a quality gate")
        rec = http.post("/v1/functions/evaluate/invoke?wait=300", json={
            "model": ref, "data": str(holdout), "sensitive_column": "plan",
            "thresholds": {"min_accuracy": 0.6, "max_latency_ms_per_row": 5}}).json()
        _show(rec)
        ev = rec["result"]
        for k, v in ev["metrics"].items():
            console.print(f"  {k:22} {v if v is None else round(v, 4)}")
        console.print(f"  gate {'[green]passed' if ev['passed'] else '[red]failed'}[/]")

        step(10, "register: point the champion alias at it (audited, with a reason)")
        if ev["passed"]:
            http.put("/v1/models/churn/aliases/champion", json={
                "version": trained["version"],
                "reason": f"gate passed, accuracy {ev['metrics']['accuracy']:.3f}"})
        console.print(f"  aliases: {svc(client).models.aliases(DEMO, 'churn')}")

        step(11, "batch_infer with churn@champion on Ray Data")
        out = home / "data" / "demo" / f"scored-{int(time.time())}"
        rec = http.post("/v1/functions/batch_infer/invoke?wait=300", json={
            "model": "churn@champion", "input": str(good), "output": str(out)}).json()
        _show(rec)
        if rec["status"] == "succeeded":
            r = rec["result"]
            console.print(f"  {r['rows']} rows at {r['rows_per_s']:,.0f} rows/s -> {r['output']}")
