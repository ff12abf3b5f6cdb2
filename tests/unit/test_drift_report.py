"""A drift comparison of two tables: what it finds, how often it cries wolf on data that did
not move, and the bad inputs it refuses without a report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fleet.drift.report import DriftOptions, compare
from fleet.errors import InvalidInput

FEATURES = ["age", "income", "tenure", "score", "visits", "plan"]


def table(rng, rows: int, shift: dict | None = None) -> pd.DataFrame:
    shift = shift or {}
    return pd.DataFrame({
        "age": rng.normal(40 + shift.get("age", 0), 12, rows),
        "income": rng.lognormal(10, 0.5 + shift.get("income", 0), rows),
        "tenure": rng.exponential(24, rows),
        "score": rng.uniform(0, 1, rows),
        "visits": rng.poisson(3, rows).astype(float),
        "plan": rng.choice(["basic", "pro", "team"], rows,
                           p=[0.5, 0.3, 0.2] if "plan" not in shift else [0.2, 0.3, 0.5]),
    })


@pytest.mark.parametrize("rows", [500, 20_000])
def test_a_shift_in_one_feature_is_found_in_that_feature_only(rows):
    rng = np.random.default_rng(3)
    got = compare(table(rng, rows), table(rng, rows, {"age": 6}), FEATURES)
    assert got.drifted_columns == ["age"]
    assert not got.dataset_drift and got.drifted_share == pytest.approx(1 / 6)
    methods = {c.column: c.method for c in got.columns}
    assert methods["age"] == ("ks" if rows <= 1000 else "wasserstein")
    assert methods["plan"] == ("chisquare" if rows <= 1000 else "jensenshannon")
    age = next(c for c in got.columns if c.column == "age")
    assert age.psi > 0.1 and age.reference_rows == age.current_rows == rows


def test_most_columns_moving_is_dataset_drift():
    rng = np.random.default_rng(4)
    got = compare(table(rng, 3000), table(rng, 3000, {"age": 6, "income": 0.4, "plan": 1}),
                  ["age", "income", "plan", "score"])
    assert set(got.drifted_columns) == {"age", "income", "plan"} and got.dataset_drift


@pytest.mark.parametrize("rows", [300, 5000])
def test_the_same_distribution_raises_a_false_alarm_in_at_most_5_percent_of_trials(rows):
    alarms = 0
    for trial in range(200):
        rng = np.random.default_rng(1000 * rows + trial)
        alarms += compare(table(rng, rows), table(rng, rows), FEATURES).dataset_drift
    assert alarms <= 10, f"{alarms} false alarms in 200 trials"


def test_per_endpoint_options_choose_the_method_and_the_threshold():
    rng = np.random.default_rng(5)
    ref, cur = table(rng, 800), table(rng, 800, {"age": 1})
    options = DriftOptions(methods={"age": "wasserstein"}, thresholds={"wasserstein": 0.05},
                           categorical=("visits",))
    got = {c.column: c for c in compare(ref, cur, ["age", "visits"], options).columns}
    assert (got["age"].method, got["age"].threshold) == ("wasserstein", 0.05)
    assert got["visits"].kind == "categorical"


@pytest.mark.parametrize("reference, current, columns, options, fields", [
    (pd.DataFrame({"a": []}), pd.DataFrame({"a": [1.0] * 50}), ["a"], None,
     ["reference"]),
    # a window with nothing logged has no columns at all: one problem, the empty window
    (pd.DataFrame({"a": [1.0] * 50}), pd.DataFrame(), ["a"], None, ["current"]),
    (pd.DataFrame({"a": [1.0] * 50}), pd.DataFrame({"b": [1.0] * 50}), ["a"], None, ["a"]),
    (pd.DataFrame({"a": [None] * 50}), pd.DataFrame({"a": [1.0] * 50}), ["a"], None, ["a"]),
    (pd.DataFrame({"a": np.arange(10.0)}), pd.DataFrame({"a": np.arange(50.0)}), ["a"],
     None, ["a"]),
    (pd.DataFrame({"a": np.arange(50.0)}), pd.DataFrame({"a": np.arange(50.0)}), ["a"],
     DriftOptions(methods={"a": "bogus"}), ["methods.a"]),
    (pd.DataFrame({"c": ["x"] * 50}), pd.DataFrame({"c": ["y"] * 50}), ["c"],
     DriftOptions(methods={"c": "ks"}), ["methods.c"]),
])
def test_bad_input_gets_every_problem_named_and_no_report(reference, current, columns,
                                                         options, fields):
    with pytest.raises(InvalidInput, match="No drift report") as refused:
        compare(reference, current, columns, options)
    assert [p.field for p in refused.value.errors] == fields
    assert all(p.message and p.fix for p in refused.value.errors)
