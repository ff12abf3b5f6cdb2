"""`fleet runs`, `run`, `models`, `model`, `alias`, `endpoints`, `rollouts`, `rollout`:
what was trained, what serves, how it rolled out."""

from __future__ import annotations

from typing import Optional

import typer

from fleet import messages
from fleet.cli import columns, lists, render
from fleet.cli.app import app
from fleet.cli.common import JSON_OPT, LIMIT_OPT, OUTPUT_OPT, TOKEN_OPT, acting, output_of


@app.command()
def runs(experiment: Optional[str] = typer.Option(None, "--experiment", "-e"),
         compare: Optional[list[str]] = typer.Option(None, "--compare", "-c",
                                                     help="Run ids to compare side by side."),
         limit: int = typer.Option(20, "--limit", "-n"), json_out: bool = JSON_OPT,
         output: str = OUTPUT_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """List training runs, or compare some (--compare ID --compare ID)."""
    svc, who = acting(token)
    if compare:
        rows = svc.runs.compare(who, compare)
        render.as_json(rows) if json_out else render.table(rows)
        return
    rows = [r.public() for r in svc.runs.list(who, experiment=experiment, limit=limit)]
    lists.show(rows, columns.RUNS, output_of(output, json_out))


@app.command()
def run(run_id: str, json_out: bool = JSON_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """Show one run: params, lineage, and its metrics per step as a table."""
    svc, who = acting(token)
    r = svc.runs.get(who, run_id).public()
    steps = svc.runs.metrics(who, r["id"])
    render.as_json({**r, "metrics": steps}) if json_out else render.run_detail(r, steps)


@app.command()
def models(limit: int = LIMIT_OPT, json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
           token: Optional[str] = TOKEN_OPT) -> None:
    """List registered models with their latest version and aliases."""
    svc, who = acting(token)
    rows = svc.models.list(who, limit=limit)
    lists.show(rows, columns.MODELS, output_of(output, json_out))


@app.command()
def model(name: str, json_out: bool = JSON_OPT, token: Optional[str] = TOKEN_OPT) -> None:
    """Show a model's versions, aliases and alias history."""
    svc, who = acting(token)
    d = svc.models.describe(who, name)
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
    svc, who = acting(token)
    out = svc.approvals.move_alias(model=name, alias=alias_name, version=version, who=who,
                                   reason=reason)
    if not out["moved"]:
        ap = out["approval"]
        render.console.print(messages.ALIAS_NEEDS_APPROVAL.format(
            model=name, alias=alias_name, id=ap.id, role=ap.role))
        return
    render.console.print(f"{name}@{alias_name} -> v{version}")


@app.command()
def endpoints(limit: int = LIMIT_OPT, json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
              token: Optional[str] = TOKEN_OPT) -> None:
    """List serving endpoints with their routing tables."""
    svc, who = acting(token)
    rows = [e.public() for e in svc.endpoints.list(who, limit=limit)]
    lists.show(rows, columns.ENDPOINTS, output_of(output, json_out))


@app.command()
def rollouts(endpoint: Optional[str] = typer.Option(None, "--endpoint", "-e"),
             active: bool = typer.Option(False, "--active", help="Only active ones."),
             limit: int = LIMIT_OPT, json_out: bool = JSON_OPT, output: str = OUTPUT_OPT,
             token: Optional[str] = TOKEN_OPT) -> None:
    """List rollouts, newest first."""
    svc, who = acting(token)
    rows = [r.public() for r in svc.rollouts.list(
        who, endpoint=endpoint, active=True if active else None, limit=limit)]
    lists.show(rows, columns.ROLLOUTS, output_of(output, json_out))


@app.command("rollout")
def rollout_cmd(rollout_id: str, json_out: bool = JSON_OPT,
                token: Optional[str] = TOKEN_OPT) -> None:
    """Show one rollout and its ladder of events. (Steer it with `fleet invoke rollout`.)"""
    svc, who = acting(token)
    r = svc.rollouts.describe(who, rollout_id)
    events = r.pop("events")
    render.as_json({**r, "events": events}) if json_out else render.rollout_detail(r, events)
