"""Issue 28, part 1: where Fleet's drift verdicts parted from Evidently 0.7.23's (and from
scipy's) on the same data. Each case is what a user would see: a verdict flipped at the
threshold, a score that fell as the shift grew, an infinite value or a stray string that
decided the verdict. The Evidently figures are literals it produced (version 0.7.23, as
recorded in the issue); the rest is checked against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import distance

from fleet.drift import stats
from fleet.drift.report import DriftOptions, compare
from fleet.errors import InvalidInput


def categorical(ref: dict[str, int], cur: dict[str, int]) -> stats.Column:
    return stats.categorical("c", [k for k, n in ref.items() for _ in range(n)],
                             [k for k, n in cur.items() for _ in range(n)])


def test_jensen_shannon_leaves_empty_bins_empty_as_evidently_and_scipy_do():
    """A new category in the current window: Evidently 0.10113 (drift at 0.1); with empty
    bins floored at 1e-4 Fleet said 0.09964, no drift."""
    col = categorical({"a": 2500, "b": 1500, "c": 1000},
                      {"a": 2427, "b": 1456, "c": 971, "d": 146})
    score = stats.score(col, "jensenshannon")
    assert score == pytest.approx(0.10113, abs=5e-5)
    assert stats.drifted("jensenshannon", score, 0.1)
    p, q = stats.binned(col)
    assert score == pytest.approx(distance.jensenshannon(p, q), abs=1e-12)


def test_a_disjoint_high_cardinality_sample_is_as_far_as_can_be():
    """20,000 levels, the current sample shares none with the reference: Evidently 0.833
    (sqrt(ln 2), the most two distributions can differ); floored, Fleet said 0.238."""
    ref = [f"r{i}" for i in range(20_000)]
    cur = [f"c{i}" for i in range(5_000)]
    col = stats.categorical("c", ref, cur)
    assert stats.score(col, "jensenshannon") == pytest.approx(np.sqrt(np.log(2)), abs=1e-9)


def test_a_numeric_column_with_few_values_gets_one_bin_per_value():
    """Values {0, 0.01, 1, 2, 100}; mass moves from 0 to 0.01. In Sturges' bins 0 and
    0.01 share a bin and nothing moves (Fleet said 0.0138); one bin per value (Evidently's
    rule for 20 distinct values or fewer) sees it."""
    values = np.array([0, 0.01, 1, 2, 100])
    ref = np.repeat(values, [400, 100, 200, 200, 100])
    cur = np.repeat(values, [100, 400, 200, 200, 100])
    col = stats.numeric("x", ref, cur)
    score = stats.score(col, "jensenshannon")
    expected = distance.jensenshannon([400, 100, 200, 200, 100], [100, 400, 200, 200, 100])
    assert score == pytest.approx(expected, abs=1e-12) and score > 0.1


def test_infinite_values_are_left_out_and_counted_not_deciding_the_verdict():
    rng = np.random.default_rng(3)
    ref = rng.normal(0, 1, 5000)
    same = np.append(rng.normal(0, 1, 5000), np.inf)  # one +inf: was inf, drift
    col = stats.numeric("x", ref, same)
    assert col.dropped == 1 and stats.score(col, "wasserstein") < 0.1
    shifted = rng.normal(2, 1, 5000)  # a 2-sd shift; one -inf in the reference hid it (NaN)
    col = stats.numeric("x", np.append(ref, -np.inf), shifted)
    assert stats.drifted("wasserstein", stats.score(col, "wasserstein"), 0.1)
    result = compare(pd.DataFrame({"x": ref}), pd.DataFrame({"x": same}), ["x"])
    assert result.columns[0].dropped == 1 and not result.columns[0].drifted


def test_a_p_value_at_the_threshold_is_drift_as_in_evidently():
    for method in stats.P_VALUES:
        assert stats.drifted(method, 0.05, 0.05)
        assert not stats.drifted(method, 0.0500001, 0.05)


def test_strings_in_a_numeric_column_are_refused_by_name_and_numbers_as_text_are_read():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 500)})
    cur = pd.DataFrame({"income": [*map(str, rng.normal(70, 10, 490)), *["abc"] * 10]})
    with pytest.raises(InvalidInput) as err:
        compare(ref, cur, ["income"])
    problem = err.value.errors[0]
    assert problem.field == "income" and "10 of 500 current values" in problem.message
    assert "'abc'" in problem.message
    as_text = pd.DataFrame({"income": [str(v) for v in rng.normal(70, 10, 500)]})
    result = compare(ref, as_text, ["income"])  # numbers sent as strings: still numbers
    assert result.columns[0].kind == "numeric" and result.columns[0].drifted


def test_a_datetime_column_is_refused_with_what_to_do_instead():
    times = pd.date_range("2026-01-01", periods=200, freq="h")
    ref = pd.DataFrame({"at": times, "x": np.arange(200.0)})
    cur = pd.DataFrame({"at": times + pd.Timedelta(days=30), "x": np.arange(200.0)})
    with pytest.raises(InvalidInput) as err:
        compare(ref, cur, ["at", "x"], DriftOptions(min_rows=10))
    (problem,) = err.value.errors
    assert problem.field == "at" and "always drift" in problem.message
    assert "hour of day" in problem.fix
