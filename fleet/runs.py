"""Training runs, as one service: what `train` opens, checkpoints and finishes (from its
driver and from Ray Train's rank-0 worker), and what every entry point reads (`fleet runs|
run`, the demo). The rows are fleet.store.runs; the model versions a run registers are
fleet.models.Models'."""

from __future__ import annotations

from typing import Any

from fleet.identity import Identity
from fleet.store import Run, Store


class Runs:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reads

    def list(self, who: Identity, *, experiment: str | None = None, limit: int = 50
             ) -> list[Run]:
        who.require("read")
        return self.store.runs.list(experiment=experiment, limit=limit)

    def get(self, who: Identity, run_id: str) -> Run:
        """A run by its id or a unique prefix."""
        who.require("read")
        return self.store.runs.get(run_id)

    def metrics(self, who: Identity, run_id: str) -> dict[int, dict[str, float]]:
        """The run's metrics per step, steps ascending."""
        return self.store.runs.metrics(self.get(who, run_id).id)

    def compare(self, who: Identity, run_ids: list[str]) -> list[dict[str, Any]]:
        """Runs side by side: params and final metrics."""
        return self.store.runs.compare([self.get(who, r).id for r in run_ids])

    def of_invocation(self, who: Identity, invocation_id: str) -> Run | None:
        """The run an invocation last opened: a retried attempt resumes it."""
        who.require("read")
        return self.store.runs.of_invocation(invocation_id)

    # -- what training writes (the invocation's caller, who was let invoke)

    def open(self, who: Identity, *, experiment: str, function: str, params: dict,
             run_id: str | None = None, invocation_id: str | None = None,
             data_uri: str | None = None, data_fingerprint: str | None = None,
             code_version: str | None = None) -> Run:
        """Create a run, or re-open a stopped or failed one by its id (resume)."""
        who.require("invoke")
        return self.store.runs.start(experiment=experiment, function=function, params=params,
                                     run_id=run_id, invocation_id=invocation_id,
                                     data_uri=data_uri, data_fingerprint=data_fingerprint,
                                     code_version=code_version)

    def attempt(self, who: Identity, run_id: str, *, from_epoch: int, world_size: int) -> None:
        """An attempt of the run starts (a retried one from its last checkpoint): audited,
        with the caller as the actor."""
        who.require("invoke")
        self.store.runs.record_attempt(run_id, from_epoch=from_epoch, world_size=world_size,
                                       actor=who.name)

    def checkpoint(self, who: Identity, run_id: str, *, epoch: int, uri: str,
                   metrics: dict[str, float]) -> None:
        """An epoch's checkpoint, then its metrics: a resume never finds metrics for an
        epoch whose checkpoint it cannot load (a repeated epoch replaces its values)."""
        who.require("invoke")
        self.store.runs.set_checkpoint(run_id, uri)
        self.store.runs.log_metrics(run_id, epoch, metrics)

    def finish(self, who: Identity, run_id: str, status: str, *, error: str | None = None,
               artifacts: dict | None = None) -> Run:
        who.require("invoke")
        return self.store.runs.finish(run_id, status, error=error, artifacts=artifacts)


__all__ = ["Runs"]
