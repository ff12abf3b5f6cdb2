import numpy as np
import pytest

from functions.training import metrics as m
from functions.training.evaluate import Thresholds, gate


def test_auc_matches_the_pairwise_definition():
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.4
    s = np.round(rng.normal(y.astype(float), 1.0), 1)  # with ties
    pairs = [(p > n) + 0.5 * (p == n) for p in s[y] for n in s[~y]]
    assert m.roc_auc(y, s) == pytest.approx(np.mean(pairs))
    assert m.roc_auc(np.array([True, True]), np.array([0.1, 0.2])) is None


def test_f1_binary_and_macro():
    y = np.array(["a", "b", "b", "a", "c"])
    p = np.array(["a", "b", "a", "a", "c"])
    assert m.f1(y[:4], p[:4], ["a", "b"]) == pytest.approx(2 / 3)
    assert m.f1(y, p, ["a", "b", "c"]) == pytest.approx((0.8 + 2 / 3 + 1) / 3)


def test_disparity_is_the_largest_gap_between_groups():
    gap, means = m.disparity(np.array(["x", "x", "y", "y"]), np.array([1.0, 1.0, 0.0, 1.0]))
    assert gap == 0.5 and means == {"x": 1.0, "y": 0.5}


def test_gate_says_which_threshold_failed_and_by_how_much():
    failures = gate({"accuracy": 0.81, "rmse": None, "latency_ms_per_row": 0.2},
                    Thresholds(min_accuracy=0.85, max_latency_ms_per_row=1.0, max_rmse=2.0))
    got = {f.threshold: f for f in failures}
    assert set(got) == {"min_accuracy", "max_rmse"}
    assert got["min_accuracy"].by == pytest.approx(0.04) and got["max_rmse"].value is None
