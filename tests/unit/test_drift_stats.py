"""Every drift statistic equals scipy's on fixed data, to 1e-9; the method is chosen as
Evidently's defaults choose it; a shift in one column is found in that column only."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from fleet.drift import stats as drift

RNG = np.random.default_rng(20261202)
A = RNG.normal(0, 1, 700)
B = RNG.normal(0.2, 1.3, 913)
TIES_A = RNG.integers(0, 40, 600).astype(float)  # many ties: the CDF steps matter
TIES_B = RNG.integers(3, 45, 450).astype(float)


@pytest.mark.parametrize("u, v", [(A, B), (TIES_A, TIES_B), (A[:7], B[:3])])
def test_wasserstein_and_ks_equal_scipys(u, v):
    su, sv = np.sort(u), np.sort(v)
    assert drift.wasserstein(su, sv) == pytest.approx(stats.wasserstein_distance(u, v),
                                                      abs=1e-9)
    assert drift.wasserstein_normed(su, sv) == pytest.approx(
        stats.wasserstein_distance(u, v) / np.std(u), abs=1e-9)
    ks = stats.ks_2samp(u, v)
    assert drift.ks_statistic(su, sv) == pytest.approx(ks.statistic, abs=1e-9)
    assert drift.ks_pvalue(su, sv) == pytest.approx(ks.pvalue, abs=1e-9)


def test_chisquare_equals_scipys_contingency_test():
    ref = np.array([120, 340, 95, 445], dtype=float)
    cur = np.array([30, 101, 40, 99], dtype=float)
    assert drift.chisquare_pvalue(ref, cur) == pytest.approx(
        stats.chi2_contingency(np.array([ref, cur]), correction=False).pvalue, abs=1e-9)
    # a value only the current sample has is a category; one neither has is not
    unseen, cur2 = np.array([120, 340, 95, 0, 0.0]), np.array([30, 101, 40, 12, 0.0])
    assert drift.chisquare_pvalue(unseen, cur2) == pytest.approx(stats.chi2_contingency(
        np.array([unseen[:4], cur2[:4]]), correction=False).pvalue, abs=1e-9)
    assert drift.chisquare_pvalue(np.array([5.0, 0]), np.array([7.0, 0])) == 1.0


def test_the_two_proportion_z_test_equals_scipys_2x2_chi_squared():
    ref, cur = np.array([412.0, 588.0]), np.array([170.0, 130.0])
    expected = stats.chi2_contingency(np.array([ref, cur]), correction=False).pvalue
    assert drift.z_pvalue(ref, cur) == pytest.approx(expected, abs=1e-9)  # z^2 = chi^2
    assert drift.z_pvalue(np.array([5.0, 0.0]), np.array([9.0, 0.0])) == 1.0


def test_jensenshannon_equals_scipys():
    p, q = np.array([0.1, 0.4, 0.5, 0.0]), np.array([0.3, 0.3, 0.2, 0.2])
    assert drift.jensenshannon(p, q) == pytest.approx(distance.jensenshannon(p, q), abs=1e-9)
    col = drift.numeric("x", A, B)
    r, c = drift.binned(col)
    assert drift.jensenshannon(r, c) == pytest.approx(distance.jensenshannon(r, c), abs=1e-9)


def test_psi_is_zero_for_the_same_sample_and_grows_with_a_shift():
    same = drift.numeric("x", A, A)
    assert drift.psi(same) == pytest.approx(0.0, abs=1e-12)
    small = drift.psi(drift.numeric("x", A, A + 0.1))
    large = drift.psi(drift.numeric("x", A, A + 1.0))
    assert 0 < small < 0.1 < large
    cats = drift.categorical("c", ["a", "b", "b", "c"] * 50, ["a", "b", "c", "c"] * 50)
    r, c = drift.counts(cats)
    rs, cs = r / r.sum(), c / c.sum()
    assert drift.psi(cats) == pytest.approx(float(np.sum((cs - rs) * np.log(cs / rs))),
                                            abs=1e-12)


@pytest.mark.parametrize("ref, cur, kind, method", [
    (A, B, "numeric", "ks"),  # 700 reference rows: a test
    (RNG.normal(size=5000), RNG.normal(size=5000), "numeric", "wasserstein"),
    (RNG.integers(0, 4, 5000), RNG.integers(0, 4, 900), "numeric", "jensenshannon"),
    (RNG.integers(0, 4, 500), RNG.integers(0, 4, 900), "numeric", "chisquare"),
    (RNG.choice(["x", "y", "z"], 800), RNG.choice(["x", "y"], 80), "categorical",
     "chisquare"),
    (RNG.choice(["yes", "no"], 800), RNG.choice(["yes", "no"], 80), "categorical", "z"),
    (RNG.choice(["x", "y", "z"], 8000), RNG.choice(["x", "y"], 80), "categorical",
     "jensenshannon"),
])
def test_the_method_is_chosen_as_evidentlys_defaults_choose(ref, cur, kind, method):
    col = (drift.numeric if kind == "numeric" else drift.categorical)("c", ref, cur)
    assert drift.choose(col) == method
    assert np.isfinite(drift.score(col, method))


def test_nulls_are_dropped_before_anything_is_computed():
    col = drift.numeric("x", [1.0, np.nan, 3.0], [np.nan, 2.0])
    assert col.reference.tolist() == [1.0, 3.0] and col.current.tolist() == [2.0]
    cats = drift.categorical("c", ["a", None, "b", np.nan], ["b", None])
    assert (cats.reference.size, cats.current.size, cats.levels) == (2, 1, 2)


def test_a_shift_in_one_column_is_found_there_and_nowhere_else():
    rng = np.random.default_rng(7)
    found = {}
    for rows in (500, 50_000):  # a test, then a distance
        for name in ("steady", "shifted"):
            ref = rng.normal(10, 2, rows)
            cur = rng.normal(10 + (1.0 if name == "shifted" else 0.0), 2, rows)
            col = drift.numeric(name, ref, cur)
            method = drift.choose(col)
            value = drift.score(col, method)
            found[(rows, name)] = drift.drifted(method, value, drift.THRESHOLDS[method])
    assert found == {(500, "steady"): False, (500, "shifted"): True,
                     (50_000, "steady"): False, (50_000, "shifted"): True}
