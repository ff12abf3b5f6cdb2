"""A registered model version as a Ray Serve application.

    serve run serve_apps.model:build_app model=churn@champion

Loads the version from the registry (artifact URI, checksum verified), predicts with
`@serve.batch` dynamic batching (size and wait configurable), answers JSON with a pydantic
schema, and reports unhealthy if the model cannot predict. Each version is its own app, so
each keeps its own replicas and its own failures; the endpoint's router
(fleet.serving.router) sits in front of its versions.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from fleet import messages
from fleet.errors import InvalidInput, problem_body
from fleet.http_edge import load_json
from fleet.serving.edge import EdgeSettings


class PredictRequest(BaseModel):
    instances: list[dict[str, Any]] = Field(min_length=1, max_length=10_000,
                                            description="Rows as {feature: value}.")


def _problem(status: int, detail: str, errors: list[dict] | None = None) -> tuple[int, dict]:
    return status, problem_body(status, "invalid-input", "Invalid input", detail, errors)


class ModelServer:
    """`fault_error_rate` and `fault_delay_ms` inject failures on purpose (Istio-style), to
    rehearse rollbacks; they are 0 unless a deploy asks for them."""

    def __init__(self, fleet_home: str, model: str, batching: bool = True,
                 max_batch_size: int = 64, batch_wait_timeout_s: float = 0.005,
                 log_sample_rate: float = 0.0, log_flush_s: float = 10.0,
                 fault_error_rate: float = 0.0, fault_delay_ms: float = 0.0) -> None:
        from fleet.artifacts import ArtifactStore
        from fleet.config import load_settings
        from fleet.flavors.torch import LoadedModel, load_bundle
        from fleet.services import in_invocation
        from fleet.serving.predlog import PredictionLog

        settings = load_settings(Path(fleet_home))
        svc, fleet = in_invocation(settings)  # a replica serves as Fleet itself
        self.version = svc.models.version(fleet, model)
        artifacts = ArtifactStore(settings)
        with tempfile.TemporaryDirectory() as d:
            path = artifacts.get_file(self.version.artifact_uri, Path(d) / "model.pt")
            self.model = LoadedModel(load_bundle(path), settings=settings)
        self.predlog = PredictionLog(artifacts, root=settings.artifact_root,
                                     model=self.version.model, version=self.version.version,
                                     sample_rate=log_sample_rate, flush_s=log_flush_s)
        self.fault_error_rate, self.fault_delay_ms = fault_error_rate, fault_delay_ms
        self.batching = batching
        # this version's own URL skips the router: guarded once endpoint_tokens guards any
        self.edge = EdgeSettings()
        self.edge.configure(settings, f"models/{self.version.model}", closed_unless_listed=True)
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

    def _rows(self, req: PredictRequest) -> np.ndarray | tuple[int, dict]:
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

    async def predict(self, body: bytes, request_id: str | None = None) -> tuple[int, dict]:
        """The JSON predict API as (status, body): the router calls this through a handle
        with its request id (logged with the sampled rows, so labels sent back later find
        their predictions), and Serve's HTTP route below wraps it."""
        started = time.perf_counter()
        if self.fault_delay_ms:
            await asyncio.sleep(self.fault_delay_ms / 1000)
        if self.fault_error_rate and random.random() < self.fault_error_rate:
            return 500, problem_body(500, "injected-fault", "Injected fault",
                                     messages.INJECTED_FAULT)
        try:
            req = PredictRequest.model_validate(load_json(body))
        except (InvalidInput, ValueError) as exc:  # not JSON, too deep, or not the schema
            errors = None
            if isinstance(exc, InvalidInput):  # says which (a 1,000-deep body was a 500)
                errors = [p.as_dict() for p in exc.errors]
            elif isinstance(exc, ValidationError):
                errors = [{"field": ".".join(map(str, e["loc"])) or "body",
                           "message": e["msg"], "fix": "See GET on this route for the schema."}
                          for e in exc.errors(include_url=False)]
            return _problem(422, "The body must be JSON like {\"instances\": [{...}]}.", errors)
        x = self._rows(req)
        if isinstance(x, tuple):
            return x
        preds = await self.predict_rows(x) if self.batching else self._predict(x)
        self.predlog.add(req.instances, preds, time.perf_counter() - started, request_id)
        return 200, {"model": self.version.model, "version": self.version.version,
                     "predictions": preds}

    async def __call__(self, request: Request) -> JSONResponse:
        refused = self.edge.refusal(request.headers.get("authorization"))
        if refused is not None:
            status, body = refused.status, problem_body(refused.status, refused.code,
                                                        refused.title, refused.detail)
        elif request.method == "GET":  # describe the model: what to send
            status, body = 200, {"model": self.version.model, "version": self.version.version,
                                 "features": self.model.features,
                                 "schema": PredictRequest.model_json_schema()}
        else:
            status, body = await self.predict(await request.body())
        media = "application/problem+json" if status >= 400 else "application/json"
        return JSONResponse(body, status_code=status, media_type=media)

    def __del__(self) -> None:
        log = getattr(self, "predlog", None)
        if log is not None:
            log.close()

    def check_health(self) -> None:
        """Serve calls this periodically; a model that cannot predict is unhealthy."""
        self.model.predict(np.zeros((1, len(self.model.features)), np.float32))


class ServingOptions(BaseModel):
    """How one version is served: batching, autoscaling, resources, logging, faults."""

    model_config = {"extra": "forbid"}
    batching: bool = True
    max_batch_size: int = Field(32, ge=1, le=4096)
    batch_wait_timeout_s: float = Field(0.005, ge=0, le=1)
    num_cpus: float = Field(0.25, gt=0, le=64)
    num_gpus: float = Field(0, ge=0, le=8)
    min_replicas: int = Field(1, ge=0, le=100)
    max_replicas: int = Field(1, ge=1, le=100)
    target_ongoing_requests: float = Field(8, gt=0)
    max_ongoing_requests: int = Field(64, ge=1)
    log_sample_rate: float = Field(0.1, ge=0, le=1,
                                   description="Share of predicted rows logged for drift.")
    log_flush_s: float = Field(10.0, gt=0)
    fault_error_rate: float = Field(0.0, ge=0, le=1, description="Rehearsals only.")
    fault_delay_ms: float = Field(0.0, ge=0, le=60_000, description="Rehearsals only.")


def app_name(model: str, version: int) -> str:
    return f"{model}-v{version}"


def model_app(model: str, *, fleet_home: str, options: ServingOptions | None = None,
              env: dict[str, str] | None = None, **overrides):
    """The bound app for one version, with its autoscaling and resources."""
    o = (options or ServingOptions()).model_copy(update=overrides)
    actor_options: dict[str, Any] = {"num_cpus": o.num_cpus, "num_gpus": o.num_gpus}
    if env:
        actor_options["runtime_env"] = {"env_vars": env}
    deployment = serve.deployment(
        ModelServer, name="model", max_ongoing_requests=o.max_ongoing_requests,
        ray_actor_options=actor_options,
        autoscaling_config={"min_replicas": o.min_replicas, "max_replicas": o.max_replicas,
                            "target_ongoing_requests": o.target_ongoing_requests},
        health_check_period_s=10)
    return deployment.bind(fleet_home, model, o.batching, o.max_batch_size,
                           o.batch_wait_timeout_s, o.log_sample_rate, o.log_flush_s,
                           o.fault_error_rate, o.fault_delay_ms)


def deploy_version(settings, model: str, version: int,
                   options: ServingOptions | None = None) -> str:
    """Run (or update) the Serve app of one registered version; returns when it is healthy.
    It answers on Serve's HTTP at /models/MODEL/vN and to the router through a handle."""
    from fleet.config import fleet_env
    from fleet.services import in_invocation
    from fleet.serving import ensure_serve

    ensure_serve(settings)
    name = app_name(model, version)
    options = options or ServingOptions()
    serve.run(model_app(f"{model}:{version}", fleet_home=str(settings.home), options=options,
                        env=fleet_env(settings)),
              name=name, route_prefix=f"/models/{model}/v{version}")
    svc, who = in_invocation(settings)  # the deploy's or rollout's caller
    svc.endpoints.record_deployment(who, app=name, model=model, version=version,
                                    options=options.model_dump())
    return name


def restore(settings) -> list[str]:
    """Bring back every version app that a routing table or an active rollout needs and
    Serve no longer runs (after the cluster restarted), as it was deployed. The Fleet server
    calls this at start, by import path."""
    from fleet.services import in_invocation

    svc, fleet = in_invocation(settings)  # Fleet itself, at its start
    restored = []
    for rec in svc.endpoints.missing_deployments(fleet, set(serve.status().applications)):
        deploy_version(settings, rec["model"], rec["version"],
                       ServingOptions.model_validate(rec["options"]))
        restored.append(rec["app"])
    return restored


def build_app(args: dict[str, str]):
    """`serve run serve_apps.model:build_app model=NAME@ALIAS [batching=false]`."""
    from fleet.config import load_settings

    return model_app(args["model"], fleet_home=str(load_settings().home),
                     batching=args.get("batching", "true").lower() != "false",
                     max_batch_size=int(args.get("max_batch_size", 32)),
                     log_sample_rate=float(args.get("log_sample_rate", 0)))
