"""Performance from labels and estimated without them (issue 12, item 4): the numbers a
user reads next to a version's registered accuracy, on data whose truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fleet.config.drift import DriftOptions
from fleet.drift.performance import (
    assess,
    calibrate,
    estimated_accuracy,
    realised,
    registered_metric,
)


def sample(rng, n, *, overconfidence=0.0, harder=False):
    """Confidences, and whether each prediction was right with probability conf - bias;
    `harder` inputs get lower confidence (within the same range)."""
    conf = 0.5 + 0.5 * (rng.beta(1, 3, n) if harder else rng.random(n))
    right = rng.random(n) < np.clip(conf - overconfidence, 0, 1)
    return conf, right


def test_cbpe_estimates_accuracy_of_a_calibrated_model_without_labels():
    rng = np.random.default_rng(0)
    conf, right = sample(rng, 20_000)
    assert estimated_accuracy(conf, None) == pytest.approx(right.mean(), abs=0.01)


def test_cbpe_calibrated_on_held_out_rows_corrects_an_overconfident_model():
    rng = np.random.default_rng(1)
    ref_conf, ref_right = sample(rng, 5_000, overconfidence=0.2)
    calibration = calibrate(ref_conf, ref_right)
    # the window sees harder inputs: lower confidence, and lower accuracy with it
    conf, right = sample(rng, 20_000, overconfidence=0.2, harder=True)
    raw, fixed = estimated_accuracy(conf, None), estimated_accuracy(conf, calibration)
    assert right.mean() < ref_right.mean() - 0.1  # it did get worse
    assert abs(raw - right.mean()) > 0.15  # the raw confidence is far off
    assert fixed == pytest.approx(right.mean(), abs=0.03)
    assert calibrate(ref_conf[:20], ref_right[:20]) is None  # too few to bin


def test_realised_accuracy_treats_one_class_alike_however_it_is_written():
    assert realised("classification", [1, 0, 1, 1], ["1", 0.0, True, "0"]) == 0.75
    assert realised("classification", ["yes", "no"], ["yes", "yes"]) == 0.5
    assert realised("classification", [True, False], ["true", "false"]) == 1.0
    assert realised("regression", [1.0, 2.0], [1.0, 4.0]) == pytest.approx(2 ** 0.5)


def logged(n, rng):
    return pd.DataFrame({"request_id": [f"r{i // 2}" for i in range(n)],
                         "row": [i % 2 for i in range(n)],
                         "prediction": rng.integers(0, 2, n),
                         "probability": rng.uniform(0.5, 1, n)})


def test_labels_join_their_predictions_and_a_drop_on_enough_labels_degrades():
    rng = np.random.default_rng(2)
    current = logged(200, rng)
    part = current.iloc[:80]  # 80 labelled rows, 40 of them wrong
    truth = np.where(np.arange(80) % 2 == 0, part["prediction"], 1 - part["prediction"])
    labels = pd.DataFrame({"request_id": part["request_id"], "row": part["row"],
                           "label": truth})
    labels = pd.concat([labels, pd.DataFrame({"request_id": ["elsewhere"], "row": [0],
                                              "label": [1]})])  # never logged: not joined
    opts = DriftOptions()
    out = assess(task="classification", version="m:1", current=current, labels=labels,
                 registered=(0.9, "validation"), options=opts, calibration=None,
                 labels_received=81)
    assert out["labelled"] == 80 and out["realised"] == pytest.approx(0.5)
    assert out["change"] == pytest.approx(-0.4) and out["degraded"]
    assert out["estimated"] == pytest.approx(current["probability"].mean())
    few = assess(task="classification", version="m:1", current=current,
                 labels=labels.iloc[:10], registered=(0.9, "validation"), options=opts,
                 calibration=None, labels_received=10)
    assert few["realised"] == pytest.approx(0.5) and not few["degraded"]  # under min_labels
    none = assess(task="classification", version="m:1", current=current, labels=None,
                  registered=(0.9, "validation"), options=opts, calibration=None,
                  labels_received=0)
    assert none["realised"] is None and none["estimated"] is not None and not none["degraded"]


def test_regression_degrades_on_a_relative_rmse_rise():
    current = pd.DataFrame({"request_id": ["a"] * 40, "row": range(40),
                            "prediction": np.zeros(40)})
    labels = pd.DataFrame({"request_id": ["a"] * 40, "row": range(40),
                           "label": np.full(40, 2.0)})
    out = assess(task="regression", version="m:2", current=current, labels=labels,
                 registered=(1.5, "evaluation"), options=DriftOptions(rmse_rise=0.25),
                 calibration=None, labels_received=40)
    assert out["metric"] == "rmse" and out["realised"] == pytest.approx(2.0)
    assert out["degraded"] and out["estimated"] is None  # 2.0 > 1.5 * 1.25


def test_the_registered_figure_prefers_the_evaluation_over_validation():
    assert registered_metric("classification", {"val_accuracy": 0.8},
                             {"metrics": {"accuracy": 0.85}}) == (0.85, "evaluation")
    assert registered_metric("classification", {"val_accuracy": 0.8}, None) == (
        0.8, "validation")
    assert registered_metric("regression", {"val_rmse": 2.0}, {}) == (2.0, "validation")
    assert registered_metric("regression", {}, None) == (None, None)
