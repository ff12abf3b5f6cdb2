"""`train`: a model from a table, on Ray Train (TorchTrainer), tracked and registered.

validate the request -> read and fingerprint the data -> start (or resume) the run ->
TorchTrainer with a checkpoint every epoch and FailureConfig -> on success, the final
checkpoint becomes the model artifact and exactly one model version is registered.
"""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from fleet import function
from fleet.artifacts import ArtifactStore, ReadLocation, WriteLocation, to_uri
from fleet.config import load_settings
from fleet.flavors.torch import load_bundle
from fleet.runtime import context
from fleet.services import in_invocation
from functions.training import data as data_mod


class TrainRequest(BaseModel):
    data: ReadLocation | None = Field(
        None, description="Table URI: file:///…, s3://… or a path, under a data root.")
    features: list[str] = Field(default_factory=list)
    label: str | None = None
    task: Literal["classification", "regression"] = "classification"
    model: str = Field("mlp", description="'mlp' or a registered model factory "
                                          "f(n_in, n_out, **model_kwargs) -> nn.Module.")
    model_kwargs: dict = Field(default_factory=dict)
    hidden: list[int] = Field(default_factory=lambda: [64, 64])
    epochs: int = Field(5, ge=1, le=10_000)
    batch_size: int = Field(256, ge=1)
    lr: float = Field(1e-3, gt=0)
    validation_fraction: float = Field(0.2, gt=0, lt=1)
    num_workers: int = Field(2, ge=1)
    cpus_per_worker: float = Field(0.5, gt=0)
    placement_strategy: Literal["PACK", "SPREAD", "STRICT_SPREAD"] = Field(
        "PACK", description="How Ray places the workers (ScalingConfig): PACK fills a node "
                            "first; SPREAD and STRICT_SPREAD use several nodes.")
    use_gpu: bool = False
    seed: int = 0
    max_failures: int = Field(2, ge=0)
    experiment: str = "default"
    model_name: str | None = Field(None, description="Register under this name "
                                                     "(default: the experiment).")
    run_id: str | None = Field(None, description="Resume this stopped run from its last "
                                                 "checkpoint; other fields come from the run.")
    artifact_root: WriteLocation | None = Field(
        None, description="Where checkpoints and the model go (file:// or s3://, under a "
                          "data root); default: Fleet's.")

    @field_validator("model")
    @classmethod
    def _registered_factory(cls, v: str) -> str:
        if v != "mlp":
            from fleet.flavors.factories import resolve

            resolve(v)  # never imports what the request names, only the allow-list
        return v

    @model_validator(mode="after")
    def _needs_data_unless_resuming(self):
        if self.run_id is None and not (self.data and self.features and self.label):
            raise ValueError("give data, features and label (or run_id to resume a run)")
        return self


class TrainResult(BaseModel):
    run_id: str
    model: str
    version: int
    artifact_uri: str
    metrics: dict[str, float]
    epochs: int
    resumed_from_epoch: int


def _code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=Path(__file__).parent)
        if out.returncode == 0:
            return f"git:{out.stdout.strip()}"
    except OSError:
        pass
    src = inspect.getsource(inspect.getmodule(_code_version))
    return f"src:{hashlib.sha256(src.encode()).hexdigest()[:12]}"


def _storage(artifacts: ArtifactStore, run_id: str) -> tuple[str, object]:
    fs, path = artifacts.pyarrow_filesystem(artifacts.uri("runs", run_id, "ray"))
    return path, fs


@function(cpus=0.1, timeout_s=6 * 3600, retries=1)
def train(req: TrainRequest) -> TrainResult:
    """Train a model on Ray Train with a checkpoint every epoch; register the result.

    The driver (this task) is retried once if its process dies (its node lost, a spot node
    preempted, killed): the retry finds the run its first attempt opened and resumes it from
    the last checkpoint, as `run_id` does by hand, instead of training from epoch 0."""
    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from functions.training.loop import train_loop

    settings = load_settings()
    svc, who = in_invocation(settings)
    ctx = context.current()
    invocation_id = ctx.invocation_id if ctx else None
    if not req.run_id and invocation_id:
        earlier = svc.runs.of_invocation(who, invocation_id)  # this invocation's dead attempt
        if earlier is not None:
            req = req.model_copy(update={"run_id": earlier.id})
    params = req.model_dump()
    if req.run_id:  # resume: the run's own parameters, not today's defaults
        previous = svc.runs.get(who, req.run_id)
        params = {**previous.params, "run_id": req.run_id}
        req = TrainRequest.model_validate(params)
    artifacts = ArtifactStore(settings, root=req.artifact_root)
    artifacts.check_writable(artifacts.root)
    df, fingerprint = data_mod.read_table(artifacts, to_uri(req.data))
    x, y, classes = data_mod.select(df, req.features, req.label, req.task)
    tr, val = data_mod.validation_rows(len(x), req.seed, req.validation_fraction)
    mean, std = x[tr].mean(axis=0), x[tr].std(axis=0) + 1e-6
    spec = {"family": "mlp" if req.model == "mlp" else "custom", "factory": req.model,
            "kwargs": req.model_kwargs, "task": req.task, "features": req.features,
            "label": req.label, "hidden": req.hidden, "classes": classes}
    run = svc.runs.open(who, experiment=req.experiment, function="train", params=params,
                        run_id=req.run_id, invocation_id=invocation_id,
                        data_uri=to_uri(req.data),
                        data_fingerprint=fingerprint, code_version=_code_version())
    resumed_from = max(svc.runs.metrics(who, run.id), default=0) if run.checkpoint_uri else 0
    storage_path, storage_fs = _storage(artifacts, run.id)
    config = {"fleet_home": str(settings.home), "artifact_root": artifacts.root,
              "run_id": run.id, "caller": who.name, "spec": spec,
              "data_ref": ray.put((x[tr], y[tr], x[val], y[val])), "mean": mean.tolist(),
              "std": std.tolist(), "epochs": req.epochs, "batch_size": req.batch_size,
              "lr": req.lr, "seed": req.seed,
              "checkpoint_dir": artifacts.uri("runs", run.id, "checkpoints")}
    trainer = TorchTrainer(
        train_loop, train_loop_config=config,
        scaling_config=ScalingConfig(num_workers=req.num_workers, use_gpu=req.use_gpu,
                                     resources_per_worker={"CPU": req.cpus_per_worker},
                                     placement_strategy=req.placement_strategy),
        run_config=RunConfig(name=f"{run.id}-{uuid_suffix()}", storage_path=storage_path,
                             storage_filesystem=storage_fs,
                             failure_config=FailureConfig(max_failures=req.max_failures)))
    try:
        trainer.fit()
    except Exception as exc:
        cause = _root_cause(exc)
        svc.runs.finish(who, run.id, "failed", error=cause)
        raise RuntimeError(f"training run {run.id} failed: {cause}. Resume it with "
                           f"run_id={run.id} once the cause is fixed.") from None
    final = svc.runs.get(who, run.id)
    steps = svc.runs.metrics(who, run.id)
    metrics = steps[max(steps)]
    name = req.model_name or req.experiment
    model_uri = artifacts.uri("models", name, run.id, "model.pt")
    with tempfile.TemporaryDirectory() as d:
        local = artifacts.get_file(final.checkpoint_uri, Path(d) / "model.pt")
        bundle = load_bundle(local)
        bundle.pop("optimizer", None)
        import torch

        torch.save(bundle, local)
        artifacts.put_file(local, model_uri)
        profile_uri = _store_profile(artifacts, settings, bundle, df, req, name, run.id)
    version = svc.models.register(
        who, model=name, artifact_uri=model_uri, flavor=f"torch-{spec['family']}",
        run_id=run.id, metrics=metrics,
        params={k: v for k, v in params.items() if k != "run_id"},
        lineage={"run_id": run.id, "data_uri": final.data_uri,
                 "data_fingerprint": fingerprint, "code_version": final.code_version,
                 **({"profile_uri": profile_uri} if profile_uri else {})})
    svc.runs.finish(who, run.id, "finished", artifacts={"model": model_uri})
    return TrainResult(run_id=run.id, model=name, version=version.version,
                       artifact_uri=model_uri, metrics=metrics, epochs=max(steps),
                       resumed_from_epoch=resumed_from)


def _store_profile(artifacts, settings, bundle, df, req, name: str, run_id: str) -> str | None:
    """The training data's drift profile (functions.drift.training_profile), stored beside
    the model: each drift check against the training data reads it instead of the data.
    None, and a warning, when it cannot be made: checks then read the data as before."""
    import logging

    from fleet.flavors.torch import LoadedModel
    from functions.drift import training_profile

    try:
        prof = training_profile(df, LoadedModel(bundle, settings=settings), seed=req.seed,
                                validation_fraction=req.validation_fraction)
        return artifacts.put_bytes(prof.to_bytes(),
                                   artifacts.uri("models", name, run_id, "profile.npz"))
    except Exception:
        logging.getLogger("functions.training").warning(
            "no drift profile for %s run %s", name, run_id, exc_info=True)
        return None


def _root_cause(exc: BaseException) -> str:
    """The first worker's own error, not Ray Train's wrapper around it."""
    failures = getattr(exc, "worker_failures", None)
    if isinstance(failures, dict) and failures:
        exc = next(iter(failures.values()))
    while getattr(exc, "cause", None) is not None and exc.cause is not exc:
        exc = exc.cause
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"[:500]


def uuid_suffix() -> str:
    import uuid

    return uuid.uuid4().hex[:6]
