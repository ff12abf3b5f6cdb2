"""`drift_check`: compare what an endpoint sees now with what its model learned from.

Reference: the training data of the serving version (its lineage), a pinned window of
logged inputs, or a table at a URI. Current: the endpoint's logged inputs and predictions
over the last `window_s` seconds, per version, or a table at a URI. Every feature and the
prediction are judged (fleet.drift); the report, its plots and, when it drifted, its alert
are stored together (fleet.store.drift). A scheduled check (`fleet drift watch`) is this
function on a schedule.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleet import function, messages
from fleet.artifacts import ArtifactStore, ReadLocation
from fleet.config import load_settings
from fleet.config.drift import DriftOptions
from fleet.errors import FieldProblem, InvalidInput
from fleet.runtime import context
from fleet.services import in_invocation

PREDICTION = "prediction"


class ReferenceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["training", "window", "uri"] = Field(
        "training", description="training: the version's training data (its lineage); "
        "window: the version's own logged inputs between since and until (a pinned, "
        "known-good window); uri: a parquet or CSV table.")
    uri: ReadLocation | None = None
    since: float | None = Field(None, description="window: start, UTC epoch seconds.")
    until: float | None = Field(None, description="window: end, UTC epoch seconds.")

    @model_validator(mode="after")
    def _complete(self) -> ReferenceSpec:
        if self.kind == "uri" and not self.uri:
            raise ValueError("reference.kind 'uri' needs reference.uri")
        if self.kind == "window" and (self.since is None or self.until is None
                                      or self.until <= self.since):
            raise ValueError("reference.kind 'window' needs since < until (epoch seconds)")
        return self


class DriftCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str | None = Field(None, description="Whose logged predictions to check.")
    model: str | None = Field(None, description="The version to check, name:version; "
                              "default: the one taking most of the endpoint's traffic.")
    window_s: float | None = Field(None, gt=0, le=90 * 86_400,
                                   description="The current window: the last N seconds "
                                   "(default drift.window_s).")
    until: float | None = Field(None, description="The window's end (default now).")
    reference: ReferenceSpec = Field(default_factory=ReferenceSpec)
    current_uri: ReadLocation | None = Field(None, description="Compare this table instead "
                                             "of the logged window.")
    columns: list[str] | None = Field(None, max_length=500, description="Default: the "
                                      "model's features and its prediction.")
    options: DriftOptions | None = Field(None, description="Default: drift.endpoints.<name> "
                                         "or drift.defaults in fleet.yaml.")

    @model_validator(mode="after")
    def _something_to_compare(self) -> DriftCheckRequest:
        if not self.endpoint and not self.current_uri:
            raise ValueError("give endpoint (its logged predictions) or current_uri")
        if not self.endpoint and not self.model and self.reference.kind != "uri":
            raise ValueError("without an endpoint, give model or reference.kind 'uri'")
        return self


class DriftCheckResult(BaseModel):
    report: dict[str, Any]


@function(cpus=0.5, timeout_s=1800, retries=0)
def drift_check(req: DriftCheckRequest) -> DriftCheckResult:
    """Compare an endpoint's recent inputs and predictions with its training data."""
    from fleet.drift import compare

    settings = load_settings()
    svc, who = in_invocation(settings)
    artifacts = ArtifactStore(settings)
    cfg = settings.drift
    version = _version(svc, who, req)
    until = req.until or time.time()
    since = until - (req.window_s or cfg.window_s)
    current = _current(artifacts, settings, req, version, since, until)
    stored = _stored_profile(artifacts, req, version)
    if stored is not None:  # the training data's statistics, kept at registration
        reference, loaded, ref_out = None, _load(artifacts, settings, version), None
    else:
        reference, loaded, ref_out = _reference(artifacts, settings, req, version, current)
    columns = req.columns or _default_columns(
        reference if stored is None else list(stored.columns), current, loaded)
    options = req.options or cfg.options_for(req.endpoint)
    if loaded is not None and loaded.spec["task"] != "regression" and PREDICTION in columns:
        options = options.model_copy(update={"categorical": (*options.categorical,
                                                             PREDICTION)})
    if stored is not None:
        from fleet.drift.profile import compare_profile

        result = compare_profile(stored, current, columns, options).public()
        calibration = _stored_calibration(stored)
    else:
        result = compare(reference, current, columns, options).public()
        calibration = _calibration(version, loaded, reference, ref_out)
    performance = None
    if version is not None and not req.current_uri:
        performance = _performance(svc, who, req.endpoint, version, loaded, calibration,
                                   current, (since, until), options)
    rid = svc.drift.new_report_id()  # the plots are stored under it before the report
    ref_values = (stored.representative if stored is not None
                  else lambda name: reference[name])
    plots = _plots(artifacts, settings, rid, req.endpoint, result, ref_values, current) \
        if cfg.plots else {}
    ctx = context.current()
    report = svc.drift.save_report(
        who, endpoint=req.endpoint or "", model=version.model if version else None,
        version=version.version if version else None, kind="drift",
        reference=req.reference.model_dump(exclude_none=True) | (
            {"data_uri": version.lineage.get("data_uri")}
            if version and req.reference.kind == "training" else {}) | (
            {"profile_uri": version.lineage.get("profile_uri")} if stored is not None else {}),
        window=(None, None) if req.current_uri else (since, until), result=result,
        plots=plots, report_id=rid, performance=performance,
        invocation_id=ctx.invocation_id if ctx else None)
    return DriftCheckResult(report=report)


def _version(svc, who, req: DriftCheckRequest):
    if req.model:
        return svc.models.version(who, req.model)
    if req.endpoint:
        return svc.endpoints.serving_version(who, req.endpoint)
    return None


def _current(artifacts, settings, req, version, since, until):
    from fleet.drift.sources import logged_window, read_uri

    if req.current_uri:
        return read_uri(artifacts, req.current_uri, "current_uri")
    return logged_window(artifacts, settings.artifact_root, version.model, version.version,
                         since, until, max_rows=settings.drift.max_rows)


def _reference(artifacts, settings, req, version, current):
    """The reference table; the loaded model and its outputs on the table when it is the
    version's training data (None otherwise)."""
    from fleet.drift.sources import logged_window, read_uri

    ref = req.reference
    if ref.kind == "uri":
        return read_uri(artifacts, ref.uri, "reference.uri"), None, None
    if version is None:
        raise InvalidInput(messages.DRIFT_NO_VERSION, [FieldProblem(
            "model", "missing", "Give endpoint or model=name:version.")])
    if ref.kind == "window":
        return logged_window(artifacts, settings.artifact_root, version.model, version.version,
                             ref.since, ref.until, max_rows=settings.drift.max_rows), None, None
    data_uri = (version.lineage or {}).get("data_uri")
    if not data_uri:
        raise InvalidInput(messages.DRIFT_NO_LINEAGE.format(
            version=f"{version.model}:{version.version}"), [FieldProblem(
                "reference.kind", "no training data recorded",
                "Use reference.kind 'window' (a known-good logged window) or 'uri'.")])
    table = read_uri(artifacts, data_uri, "reference")
    loaded = _load(artifacts, settings, version)
    features = [f for f in loaded.features if f in table.columns]
    out = None
    if len(features) == len(loaded.features) and len(table) and PREDICTION in current.columns:
        import numpy as np

        out = loaded.predict(table[features].to_numpy(np.float32))
        table[PREDICTION] = out[PREDICTION]
    return table, loaded, out


def _calibration(version, loaded, reference, ref_out):
    """CBPE's calibration on the version's held-out training rows, when the reference is
    its training data and the model gives probabilities (None otherwise)."""
    label = loaded.spec.get("label") if loaded else None
    if ref_out is None or "probability" not in ref_out or label not in reference.columns:
        return None
    params = version.params
    return _held_out_calibration(ref_out, reference[label].to_numpy(),
                                 seed=params.get("seed", 0),
                                 validation_fraction=params.get("validation_fraction", 0.2))


def _held_out_calibration(out, labels, *, seed: int, validation_fraction: float):
    """CBPE's calibration on the rows `train` held out (its split, re-drawn from its seed):
    the model's confidence there against whether its prediction was right."""
    from fleet.drift.performance import calibrate, right
    from functions.training.data import validation_rows

    _, val = validation_rows(len(labels), seed, validation_fraction)
    return calibrate(out["probability"][val], right(out[PREDICTION][val], labels[val]))


def _stored_calibration(stored):
    import numpy as np

    from fleet.drift.performance import Calibration

    cal = stored.extra.get("calibration")
    return Calibration(inner=np.asarray(cal["inner"]), right=np.asarray(cal["right"])) \
        if cal else None


def _stored_profile(artifacts, req, version):
    """The version's reference profile, stored at registration, for a check against its
    training data (None for another reference, or a version registered without one)."""
    uri = (version.lineage or {}).get("profile_uri") if version is not None else None
    if req.reference.kind != "training" or not uri:
        return None
    from fleet.drift.profile import Profile

    return Profile.from_bytes(artifacts.get_bytes(uri))


def training_profile(table, loaded, *, seed: int, validation_fraction: float):
    """What a version's drift checks need of its training data, computed once at
    registration (fleet.drift.profile): each feature's statistics, the model's predictions
    on the table, and CBPE's calibration on the held-out rows, as a check against the
    table itself would compute them."""
    import numpy as np

    from fleet.drift.profile import profile

    features = [f for f in loaded.features if f in table.columns]
    frame = table[features].copy()
    out = loaded.predict(frame.to_numpy(np.float32))
    frame[PREDICTION] = out[PREDICTION]
    categorical = (PREDICTION,) if loaded.spec["task"] != "regression" else ()
    prof = profile(frame, options=DriftOptions(categorical=categorical))
    label = loaded.spec.get("label")
    if "probability" in out and label in table.columns:
        cal = _held_out_calibration(out, table[label].to_numpy(), seed=seed,
                                    validation_fraction=validation_fraction)
        if cal is not None:
            prof.extra["calibration"] = {"inner": cal.inner.tolist(),
                                         "right": cal.right.tolist()}
    return prof


def _performance(svc, who, endpoint, version, loaded, calibration, current, window,
                 options):
    """The report's performance section: the version's labels in the window joined with its
    logged predictions, its CBPE estimate (calibrated on its held-out training rows when the
    reference is its training data) and its figure at registration."""
    import pandas as pd

    from fleet.drift.performance import assess, registered_metric

    task = (loaded.spec if loaded else version.params).get("task", "classification")
    key = f"{version.model}:{version.version}"
    rows = svc.drift.labels(who, endpoint, [key], *window) if endpoint else []
    labels = pd.DataFrame(rows, columns=["request_id", "row", "label"]) if rows else None
    return assess(task=task, version=key, current=current, labels=labels,
                  registered=registered_metric(task, version.metrics, version.evaluation),
                  options=options, calibration=calibration, labels_received=len(rows))


def _load(artifacts, settings, version):
    import tempfile

    from fleet.flavors.torch import LoadedModel, load_bundle

    with tempfile.TemporaryDirectory() as d:
        path = artifacts.get_file(version.artifact_uri, Path(d) / "model.pt")
        return LoadedModel(load_bundle(path), settings=settings)


def _default_columns(reference, current, loaded) -> list[str]:
    """`reference`: a table, or the column names of a stored profile."""
    if loaded is not None:
        return [*loaded.features, *([PREDICTION] if PREDICTION in current.columns else [])]
    if len(current.columns):
        skip = {"at", "probability", "request_id", "row"}
        return [c for c in current.columns if c not in skip]
    return [c for c in getattr(reference, "columns", reference) if c != "at"]


def _plots(artifacts, settings, rid, endpoint, result, ref_values, current) -> dict[str, str]:
    """PNGs in artifact storage: the summary, and one per drifted column (`ref_values`: a
    column's reference values by name, from the table or its stored profile)."""
    from fleet.drift import plots

    prefix = f"{settings.artifact_root.rstrip('/')}/drift/{endpoint or 'adhoc'}/{rid}"
    title = (f"{endpoint or 'drift'}: {len(result['drifted_columns'])} of "
             f"{len(result['columns'])} columns drifted")
    out = {"summary": artifacts.put_bytes(plots.summary(title, result["columns"]),
                                          f"{prefix}/summary.png")}
    for c in result["columns"]:
        if c["drifted"]:
            verdict = f"{c['method']} {c['score']:.3g} vs {c['threshold']:g}"
            png = plots.column(c["column"], c["kind"], ref_values(c["column"]),
                               current[c["column"]], verdict)
            out[c["column"]] = artifacts.put_bytes(png, f"{prefix}/{_safe(c['column'])}.png")
    return out


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:100] or "column"
