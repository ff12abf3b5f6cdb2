"""Models, their versions and aliases, and the training runs behind them, as a read and
register service for every entry point (the gateway's /v1/models, `fleet models|model|
runs|run`, the demo). Moving an alias is a gated change and lives with the approvals
(fleet.approvals.Approvals.move_alias); the rows are fleet.store.models and .runs."""

from __future__ import annotations

from typing import Any

from fleet.identity import Identity
from fleet.store import ModelVersion, Run, Store


class Models:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- models and versions

    def list(self, who: Identity, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Models, the most recently registered first, with their latest version and
        aliases."""
        who.require("read")
        return self.store.models.models(limit=limit)

    def describe(self, who: Identity, name: str) -> dict[str, Any]:
        """A model's versions, aliases and alias history."""
        who.require("read")
        return self.store.models.describe(name)

    def version(self, who: Identity, ref: str) -> ModelVersion:
        """'name', 'name:3' or 'name@alias'."""
        who.require("read")
        return self.store.models.resolve(ref)

    def aliases(self, who: Identity, name: str) -> dict[str, int]:
        who.require("read")
        return self.store.models.aliases(name)

    def register(self, who: Identity, *, model: str, artifact_uri: str, flavor: str,
                 metrics: dict, params: dict, lineage: dict, run_id: str | None = None,
                 tags: dict | None = None) -> ModelVersion:
        """Register the next version of `model` (the admin scope; training registers its
        own versions as the invocation's caller)."""
        who.require("admin")
        return self.store.models.register(model=model, artifact_uri=artifact_uri,
                                          flavor=flavor, run_id=run_id, metrics=metrics,
                                          params=params, lineage=lineage, actor=who.name,
                                          tags=tags)

    # -- training runs

    def runs(self, who: Identity, *, experiment: str | None = None, limit: int = 50
             ) -> list[Run]:
        who.require("read")
        return self.store.runs.list(experiment=experiment, limit=limit)

    def run(self, who: Identity, run_id: str) -> Run:
        """A run by its id or a unique prefix."""
        who.require("read")
        return self.store.runs.get(run_id)

    def run_metrics(self, who: Identity, run_id: str) -> dict[int, dict[str, float]]:
        """The run's metrics per step."""
        return self.store.runs.metrics(self.run(who, run_id).id)

    def compare(self, who: Identity, run_ids: list[str]) -> list[dict[str, Any]]:
        """Runs side by side: params and final metrics."""
        return self.store.runs.compare([self.run(who, r).id for r in run_ids])


__all__ = ["Models"]
