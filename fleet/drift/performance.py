"""How well a version predicts, from labels when they arrive and estimated when they do not.

- Realised: the labels sent back for an endpoint's answers (fleet.store.labels) joined with
  the logged predictions by request id and instance index: accuracy for a classifier, RMSE
  for a regressor, set against the version's figure at registration (its evaluation, else
  its held-out validation). A drop beyond `accuracy_drop` (absolute) or a rise beyond
  `rmse_rise` (relative), on at least `min_labels` labels, is degradation, which alerts the
  way drift does.
- Estimated, for classifiers, without labels: NannyML's confidence-based performance
  estimation (CBPE). If the model's confidence were calibrated, the expected accuracy of a
  window would be the mean confidence of its predictions. Confidence is calibrated first on
  data with known labels the model did not train on (the version's held-out validation
  rows, re-drawn from its training data with its own seed), by histogram binning: per
  quantile bin of confidence, the share that was right. Shown next to the realised figure
  once labels exist, so the estimate can be trusted or not.

Vectorised numpy and a pandas join: no Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fleet.config.drift import DriftOptions


@dataclass(frozen=True)
class Calibration:
    """Histogram binning: `inner` are the bin edges between bins, `right` each bin's
    observed share of right answers."""

    inner: np.ndarray
    right: np.ndarray

    def apply(self, confidence: np.ndarray) -> np.ndarray:
        return self.right[np.searchsorted(self.inner, confidence, side="right")]


def calibrate(confidence: np.ndarray, correct: np.ndarray, *, bins: int = 10,
              min_per_bin: int = 50) -> Calibration | None:
    """Fit on (confidence, was the prediction right); None when there are too few rows
    for even one bin (the estimate then uses the raw confidence, and says so)."""
    confidence = np.asarray(confidence, np.float64)
    correct = np.asarray(correct, np.float64)
    n_bins = min(bins, len(confidence) // min_per_bin)
    if n_bins < 1:
        return None
    edges = np.unique(np.quantile(confidence, np.linspace(0, 1, n_bins + 1))[1:-1])
    idx = np.searchsorted(edges, confidence, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    right = np.bincount(idx, weights=correct, minlength=len(edges) + 1)
    share = np.where(counts > 0, right / np.maximum(counts, 1), confidence.mean())
    return Calibration(inner=edges, right=share)


def estimated_accuracy(confidence: np.ndarray, calibration: Calibration | None) -> float:
    """CBPE's expected accuracy: the mean (calibrated) confidence of the predictions."""
    conf = np.asarray(confidence, np.float64)
    return float((calibration.apply(conf) if calibration else conf).mean())


_BOOLS = {"true": 1.0, "false": 0.0}


def _classes(values):
    """Labels or predictions as comparable values: 1, 1.0, "1", True and "true" are one
    class (JSON and CSV write a class differently from how a model names it)."""
    import pandas as pd

    s = pd.Series(values, dtype=object).map(
        lambda v: float(v) if isinstance(v, (bool, np.bool_)) else
        _BOOLS.get(v.lower(), v) if isinstance(v, str) else v)
    numbers = pd.to_numeric(s, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(np.float64)
    return s.astype(str).to_numpy(object)


def right(predictions, labels) -> np.ndarray:
    """Per row, whether a classifier's prediction is its label."""
    p, y = _classes(predictions), _classes(labels)
    if p.dtype != y.dtype:  # one side numbers, the other not: compare as text
        p, y = p.astype(str), y.astype(str)
    return p == y


def realised(task: str, predictions, labels) -> float:
    """Accuracy (classification) or RMSE (regression) of `predictions` against `labels`."""
    if task == "regression":
        p = np.asarray(predictions, np.float64)
        y = np.asarray(labels, np.float64)
        return float(np.sqrt(np.mean((p - y) ** 2)))
    return float(np.mean(right(predictions, labels)))


def registered_metric(task: str, metrics: dict, evaluation: dict | None
                      ) -> tuple[float | None, str | None]:
    """The version's figure at registration: its evaluation's, else its validation's."""
    name, val_name = ("rmse", "val_rmse") if task == "regression" else ("accuracy",
                                                                        "val_accuracy")
    figures = (evaluation or {}).get("metrics") or {}
    if figures.get(name) is not None:
        return float(figures[name]), "evaluation"
    if metrics.get(val_name) is not None:
        return float(metrics[val_name]), "validation"
    return None, None


def assess(*, task: str, version: str, current, labels,
           registered: tuple[float | None, str | None], options: DriftOptions,
           calibration: Calibration | None, labels_received: int) -> dict[str, Any]:
    """The performance section of a report: realised (when labels joined), estimated
    (classifiers with logged confidence), the registered figure and the verdict. `labels`
    is a DataFrame of request_id, row, label (or None)."""
    metric = "rmse" if task == "regression" else "accuracy"
    out: dict[str, Any] = {
        "version": version, "task": task, "metric": metric, "registered": registered[0],
        "registered_from": registered[1], "labels_received": labels_received,
        "labelled": 0, "realised": None, "estimated": None, "estimated_rows": 0,
        "calibrated": calibration is not None, "min_labels": options.min_labels,
        "threshold": options.rmse_rise if task == "regression" else options.accuracy_drop,
        "change": None, "degraded": False}
    if task != "regression" and "probability" in current.columns:
        conf = current["probability"].dropna().to_numpy(np.float64)
        if len(conf):
            out["estimated"] = estimated_accuracy(conf, calibration)
            out["estimated_rows"] = int(len(conf))
    if labels is not None and len(labels) and {"prediction", "request_id", "row"} <= set(
            current.columns):
        logged = current[["request_id", "row", "prediction"]].dropna(subset=["request_id"])
        joined = logged.astype({"row": "int64"}).merge(labels, on=["request_id", "row"])
        if len(joined):
            out["labelled"] = int(len(joined))
            out["realised"] = realised(task, joined["prediction"].to_numpy(),
                                       joined["label"].to_numpy())
    reg, real = out["registered"], out["realised"]
    if reg is not None and real is not None:
        out["change"] = real - reg
        enough = out["labelled"] >= options.min_labels
        if task == "regression":
            out["degraded"] = enough and real > reg * (1 + options.rmse_rise)
        else:
            out["degraded"] = enough and reg - real > options.accuracy_drop
    return out
