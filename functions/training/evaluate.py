"""`evaluate`: a registered model version on a holdout, with a quality gate.

The result is stored with the model version and says which thresholds failed and by how
much; promotion (moving `champion`) can then require a passed gate.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from fleet import function
from fleet.artifacts import ArtifactStore, ReadLocation, to_uri
from fleet.config import load_settings
from fleet.flavors.torch import LoadedModel, load_bundle
from fleet.services import in_invocation
from functions.training import data as data_mod
from functions.training import metrics as m

# threshold name -> (metric, direction): "min" means the metric must be >= the threshold.
GATES = {"min_accuracy": ("accuracy", "min"), "min_f1": ("f1", "min"),
         "min_roc_auc": ("roc_auc", "min"), "max_rmse": ("rmse", "max"),
         "max_mae": ("mae", "max"), "max_latency_ms_per_row": ("latency_ms_per_row", "max"),
         "max_model_size_mb": ("model_size_mb", "max"),
         "max_fairness_disparity": ("fairness_disparity", "max")}


class Thresholds(BaseModel):
    min_accuracy: float | None = None
    min_f1: float | None = None
    min_roc_auc: float | None = None
    max_rmse: float | None = None
    max_mae: float | None = None
    max_latency_ms_per_row: float | None = None
    max_model_size_mb: float | None = None
    max_fairness_disparity: float | None = None


class EvaluateRequest(BaseModel):
    model: str = Field(description="name, name:version or name@alias")
    data: ReadLocation = Field(
        description="Holdout table URI (file:// or s3://) or path, under a data root.")
    sensitive_column: str | None = Field(None, description="Group column for fairness.")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    latency_rows: int = Field(1000, ge=1)


class GateFailure(BaseModel):
    threshold: str
    metric: str
    value: float | None
    limit: float
    by: float | None


class EvaluateResult(BaseModel):
    model: str
    version: int
    rows: int
    metrics: dict[str, float | None]
    groups: dict[str, float] = Field(default_factory=dict)
    passed: bool
    failures: list[GateFailure]


def gate(metrics: dict, thresholds: Thresholds) -> list[GateFailure]:
    out = []
    for name, limit in thresholds.model_dump(exclude_none=True).items():
        metric, direction = GATES[name]
        value = metrics.get(metric)
        if value is None:
            out.append(GateFailure(threshold=name, metric=metric, value=None, limit=limit,
                                   by=None))
            continue
        short = limit - value if direction == "min" else value - limit
        if short > 0:
            out.append(GateFailure(threshold=name, metric=metric, value=value, limit=limit,
                                   by=round(short, 6)))
    return out


@function(cpus=0.5, timeout_s=3600, retries=1)
def evaluate(req: EvaluateRequest) -> EvaluateResult:
    """Score a model version on a holdout, check a quality gate, store the result."""
    settings = load_settings()
    svc, who = in_invocation(settings)
    artifacts = ArtifactStore(settings)
    version = svc.models.version(who, req.model)
    with tempfile.TemporaryDirectory() as d:
        local = artifacts.get_file(version.artifact_uri, Path(d) / "model.pt")
        size_mb = local.stat().st_size / 1e6
        model = LoadedModel(load_bundle(local), settings=settings)
    spec = model.spec
    df, _ = data_mod.read_table(artifacts, to_uri(req.data))
    x, y, _ = data_mod.select(df, spec["features"], spec["label"], spec["task"])
    sample = x[:req.latency_rows]
    start = time.perf_counter()
    model.predict(sample)
    latency = (time.perf_counter() - start) * 1000 / len(sample)
    out = model.predict(x)
    metrics: dict[str, float | None] = {"latency_ms_per_row": latency,
                                        "model_size_mb": size_mb}
    if spec["task"] == "classification":
        classes = spec["classes"]
        truth = np.asarray(classes, dtype=object)[y]
        pred = out["prediction"]
        metrics["accuracy"] = m.accuracy(truth, pred)
        metrics["f1"] = m.f1(truth, pred, classes)
        if len(classes) == 2:
            raw = model.predict_raw(x)
            score = raw[:, 1] - raw[:, 0]
            metrics["roc_auc"] = m.roc_auc(y == 1, score)
        outcome = (pred == classes[-1]).astype(float)
    else:
        pred = out["prediction"]
        metrics["rmse"], metrics["mae"] = m.rmse(y, pred), m.mae(y, pred)
        outcome = pred
    groups: dict[str, float] = {}
    if req.sensitive_column:
        if req.sensitive_column not in df.columns:
            raise data_mod.DataError(f"Sensitive column '{req.sensitive_column}' is not in "
                                     f"the data; it has {list(df.columns)}.")
        metrics["fairness_disparity"], groups = m.disparity(
            df[req.sensitive_column].astype(str).to_numpy(), outcome)
    failures = gate(metrics, req.thresholds)
    result = EvaluateResult(model=version.model, version=version.version, rows=len(x),
                            metrics=metrics, groups=groups, passed=not failures,
                            failures=failures)
    svc.models.set_evaluation(who, version.model, version.version,
                              {**result.model_dump(mode="json"), "data": req.data,
                               "thresholds": req.thresholds.model_dump(exclude_none=True)})
    return result
