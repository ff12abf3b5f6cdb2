"""A registered model version as a Ray Serve application.

    serve run serve_apps.model:build_app model=churn@champion

Loads the version from the registry (artifact URI, checksum verified), predicts with
`@serve.batch` dynamic batching (size and wait configurable), answers JSON with a pydantic
schema, and reports unhealthy if the model cannot predict. Each version is its own app, so
each keeps its own replicas and its own failures; the router (next) sits in front.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse


class PredictRequest(BaseModel):
    instances: list[dict[str, Any]] = Field(min_length=1, max_length=10_000,
                                            description="Rows as {feature: value}.")


def _problem(status: int, detail: str, errors: list[dict] | None = None) -> JSONResponse:
    body = {"type": "https://fleet.dev/problems/invalid-input", "title": "Invalid input",
            "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class ModelServer:
    def __init__(self, fleet_home: str, model: str, batching: bool = True,
                 max_batch_size: int = 64, batch_wait_timeout_s: float = 0.005) -> None:
        from fleet.artifacts import ArtifactStore
        from fleet.config import load_settings
        from fleet.flavors.torch import LoadedModel, load_bundle
        from fleet.store import open_store

        settings = load_settings(Path(fleet_home))
        self.version = open_store(settings.resolved_store_url).models.resolve(model)
        with tempfile.TemporaryDirectory() as d:
            path = ArtifactStore(settings).get_file(self.version.artifact_uri,
                                                    Path(d) / "model.pt")
            self.model = LoadedModel(load_bundle(path))
        self.batching = batching
        self.predict_rows.set_max_batch_size(max_batch_size)
        self.predict_rows.set_batch_wait_timeout_s(batch_wait_timeout_s)

    def _predict(self, x: np.ndarray) -> list[dict[str, Any]]:
        out = self.model.predict(x)
        keys = list(out)
        return [{k: (out[k][i].item() if hasattr(out[k][i], "item") else out[k][i])
                 for k in keys} for i in range(len(x))]

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.005)
    async def predict_rows(self, xs: list[np.ndarray]) -> list[list[dict[str, Any]]]:
        """One forward pass for every request in the batch, split back per request."""
        flat = self._predict(np.concatenate(xs))
        out, start = [], 0
        for x in xs:
            out.append(flat[start:start + len(x)])
            start += len(x)
        return out

    def _rows(self, req: PredictRequest) -> np.ndarray | JSONResponse:
        features = self.model.features
        errors = []
        for i, row in enumerate(req.instances):
            for f in features:
                if f not in row:
                    errors.append({"field": f"instances.{i}.{f}", "message": "missing",
                                   "fix": f"Send every feature: {features}."})
                elif not isinstance(row[f], (int, float)) or isinstance(row[f], bool):
                    errors.append({"field": f"instances.{i}.{f}", "message": "not a number",
                                   "fix": "Send numbers for features."})
        if errors:
            return _problem(422, f"{len(errors)} problem(s) in instances.", errors[:50])
        return np.asarray([[row[f] for f in features] for row in req.instances], np.float32)

    async def __call__(self, request: Request) -> JSONResponse:
        if request.method == "GET":  # describe the model: what to send
            return JSONResponse({"model": self.version.model, "version": self.version.version,
                                 "features": self.model.features,
                                 "schema": PredictRequest.model_json_schema()})
        try:
            req = PredictRequest.model_validate(json.loads(await request.body()))
        except ValueError as exc:
            errors = None
            if isinstance(exc, ValidationError):
                errors = [{"field": ".".join(map(str, e["loc"])) or "body",
                           "message": e["msg"], "fix": "See GET on this route for the schema."}
                          for e in exc.errors(include_url=False)]
            return _problem(422, "The body must be JSON like {\"instances\": [{...}]}.", errors)
        x = self._rows(req)
        if isinstance(x, JSONResponse):
            return x
        preds = await self.predict_rows(x) if self.batching else self._predict(x)
        return JSONResponse({"model": self.version.model, "version": self.version.version,
                             "predictions": preds})

    def check_health(self) -> None:
        """Serve calls this periodically; a model that cannot predict is unhealthy."""
        self.model.predict(np.zeros((1, len(self.model.features)), np.float32))


def model_app(model: str, *, fleet_home: str, batching: bool = True, max_batch_size: int = 64,
              batch_wait_timeout_s: float = 0.005, num_cpus: float = 0.25,
              num_gpus: float = 0, min_replicas: int = 1, max_replicas: int = 1,
              target_ongoing_requests: float = 8, max_ongoing_requests: int = 64):
    """The bound app for one version, with its autoscaling and resources."""
    deployment = serve.deployment(
        ModelServer, name="model", max_ongoing_requests=max_ongoing_requests,
        ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus},
        autoscaling_config={"min_replicas": min_replicas, "max_replicas": max_replicas,
                            "target_ongoing_requests": target_ongoing_requests},
        health_check_period_s=10)
    return deployment.bind(fleet_home, model, batching, max_batch_size, batch_wait_timeout_s)


def build_app(args: dict[str, str]):
    """`serve run serve_apps.model:build_app model=NAME@ALIAS [batching=false]`."""
    from fleet.config import load_settings

    return model_app(args["model"], fleet_home=str(load_settings().home),
                     batching=args.get("batching", "true").lower() != "false",
                     max_batch_size=int(args.get("max_batch_size", 64)))
