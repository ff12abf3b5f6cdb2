"""Models, their versions and aliases, as a read and register service for every entry
point (the gateway's /v1/models, `fleet models|model`, the built-in functions, the Serve
apps, the demo). Moving an alias is a gated change and lives with the approvals
(fleet.approvals.Approvals.move_alias); training runs are fleet.runs.Runs'; the rows are
fleet.store.models."""

from __future__ import annotations

from typing import Any

from fleet.identity import Identity
from fleet.store import ModelVersion, Store


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
        """Register the next version of `model`. Any artifact: the admin scope. A training
        run's own result (run_id): whoever was let invoke the training, recorded as the
        run, so the version's history names what made it."""
        who.require("invoke" if run_id else "admin")
        return self.store.models.register(model=model, artifact_uri=artifact_uri,
                                          flavor=flavor, run_id=run_id, metrics=metrics,
                                          params=params, lineage=lineage,
                                          actor=f"run:{run_id}" if run_id else who.name,
                                          tags=tags)

    def set_evaluation(self, who: Identity, model: str, version: int,
                       evaluation: dict) -> None:
        """Store a version's evaluation (evaluate's result) with it."""
        who.require("invoke")
        self.store.models.set_evaluation(model, version, evaluation)


__all__ = ["Models"]
