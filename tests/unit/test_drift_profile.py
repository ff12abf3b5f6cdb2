"""Drift checks against a stored reference profile (fleet.drift.profile) against the exact
comparison on the same tables (fleet.drift.report.compare): the same method and verdict for
every column, exact scores where the profile keeps exact counts, Wasserstein within 1%."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fleet.config.drift import DriftOptions
from fleet.drift.profile import Profile, compare_profile, profile
from fleet.drift.report import compare
from fleet.errors import InvalidInput


def _tables(rows: int, seed: int, shift: float):
    rng = np.random.default_rng(seed)

    def one(s: float, n: int) -> pd.DataFrame:
        return pd.DataFrame({
            "normal": rng.normal(s, 1, n),
            "skewed": rng.lognormal(0.2 * s, 0.8, n),
            "wide": rng.uniform(-1e6, 1e6 * (1 + s), n),
            "few": rng.choice([0.0, 0.01, 1.0, 2.0, 100.0], n,
                              p=[0.4 - 0.3 * s, 0.1 + 0.3 * s, 0.2, 0.2, 0.1]),
            "counts": rng.poisson(3 + 2 * s, n).astype(float),
            "city": rng.choice(["ams", "ber", "cph", "dub"], n,
                               p=[0.4 - 0.2 * s, 0.3, 0.2 + 0.2 * s, 0.1]),
            "flag": rng.random(n) < 0.3 + 0.2 * s,
        })

    return one(0.0, rows), one(shift, rows // 2)


@pytest.mark.parametrize("rows, shift", [(200_000, 0.0), (200_000, 0.08), (200_000, 0.5),
                                         (800, 0.0), (800, 0.5)])
def test_a_profile_gives_the_exact_check_s_verdicts(rows, shift):
    reference, current = _tables(rows, seed=rows + int(shift * 100), shift=shift)
    columns = list(reference.columns)
    exact = compare(reference, current, columns)
    stored = Profile.from_bytes(profile(reference).to_bytes())  # as it is kept
    got = compare_profile(stored, current, columns)
    for e, g in zip(exact.columns, got.columns, strict=True):
        assert (g.column, g.method, g.drifted) == (e.column, e.method, e.drifted), (e, g)
        assert (g.reference_rows, g.current_rows) == (e.reference_rows, e.current_rows)
        assert g.psi == pytest.approx(e.psi, rel=1e-9, abs=1e-12)
        if e.method == "wasserstein":
            assert g.score == pytest.approx(e.score, rel=0.01, abs=1e-3), e.column
        else:
            assert g.score == pytest.approx(e.score, rel=1e-9, abs=1e-12), e.column
    assert got.dataset_drift == exact.dataset_drift
    assert got.drifted_columns == exact.drifted_columns


def test_infinite_values_are_dropped_and_counted_as_in_the_exact_check():
    reference, current = _tables(50_000, seed=3, shift=0.0)
    reference.loc[:4, "normal"] = -np.inf
    current.loc[:1, "normal"] = np.inf
    exact = compare(reference, current, ["normal"]).columns[0]
    got = compare_profile(profile(reference), current, ["normal"]).columns[0]
    assert got.dropped == exact.dropped == 7 and got.drifted == exact.drifted is False


def test_a_column_the_profile_lacks_or_a_thin_window_is_named():
    reference, current = _tables(5_000, seed=4, shift=0.0)
    prof = profile(reference[["normal", "city"]])
    with pytest.raises(InvalidInput) as err:
        compare_profile(prof, current, ["normal", "skewed"])
    assert [p.field for p in err.value.errors] == ["skewed"]
    with pytest.raises(InvalidInput) as err:
        compare_profile(prof, current.head(10), ["normal"], DriftOptions(min_rows=30))
    assert "normal" in err.value.errors[0].field


def test_text_in_a_numeric_column_is_refused_as_the_exact_check_refuses_it():
    reference, current = _tables(5_000, seed=5, shift=0.0)
    current["normal"] = current["normal"].astype(object)
    current.loc[:9, "normal"] = "abc"
    with pytest.raises(InvalidInput) as exact:
        compare(reference, current, ["normal"])
    with pytest.raises(InvalidInput) as got:
        compare_profile(profile(reference), current, ["normal"])
    assert got.value.errors[0].message == exact.value.errors[0].message
    current["normal"] = current["normal"].astype(str).where(current.index >= 10, "1.5")
    assert compare_profile(profile(reference), current, ["normal"]).columns[0].current_rows \
        == len(current)  # numbers sent as text are read as numbers
