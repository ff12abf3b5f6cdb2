"""Drift statistics between a reference sample and a current one, column by column.

Each method is computed with numpy over whole columns (no Python loop over rows), and each
equals scipy's own function on the same data (tests/unit/test_drift_stats.py checks that to
1e-9):

| method | kind | score | drifted when | scipy |
|---|---|---|---|---|
| ks | numeric | p-value | <= 0.05 | stats.ks_2samp |
| wasserstein | numeric | distance / std(ref) | >= 0.1 | stats.wasserstein_distance |
| chisquare | categorical | p-value | <= 0.05 | stats.chi2_contingency |
| z | binary | p-value | <= 0.05 | two proportions, stats.norm |
| jensenshannon | either | distance (base e) | >= 0.1 | spatial.distance.jensenshannon |

A p-value at the threshold is drift, as in Evidently. Jensen-Shannon compares the shares as
they are (an empty bin stays empty, as scipy and Evidently have it), per category, or for a
numeric column per value when its reference has at most PER_VALUE distinct values, else in
Sturges' bins. Infinite values are dropped with the nulls, and counted (`dropped`).

`choose` picks a method the way Evidently's defaults do: by the reference's size (up to 1,000
rows, a test; more, a distance, since with a million rows every test rejects) and by the
column's kind and number of distinct values. PSI, with bins at the reference's quantiles, is
reported for every column whatever the method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMALL = 1000  # reference rows up to which a statistical test is used
FEW_VALUES = 5  # a numeric column with this many distinct values or fewer is categorical
THRESHOLDS = {"ks": 0.05, "wasserstein": 0.1, "chisquare": 0.05, "z": 0.05,
              "jensenshannon": 0.1}
P_VALUES = {"ks", "chisquare", "z"}  # drifted at or below the threshold; distances at or above
FLOOR = 1e-4  # an empty bin's share, for PSI only (its log needs one; Evidently's)
PER_VALUE = 20  # a numeric reference with this many distinct values or fewer: a bin each


@dataclass(frozen=True)
class Column:
    """One column's two samples, nulls removed. Categorical values are codes into `levels`
    (shared by both sides); numeric values are sorted."""

    name: str
    kind: str  # "numeric" or "categorical"
    reference: np.ndarray
    current: np.ndarray
    levels: int = 0  # categorical: how many distinct values over both sides
    dropped: int = 0  # numeric: infinite values left out (both sides), like the nulls

    @property
    def distinct(self) -> int:
        if self.kind == "categorical":
            return self.levels
        return int(np.unique(np.concatenate([self.reference, self.current])).size)


def numeric(name: str, reference, current) -> Column:
    """Nulls and infinite values left out (one +inf made Wasserstein inf, one -inf NaN);
    how many infinite ones is kept with the column, for the report."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    dropped = int(np.isinf(ref).sum() + np.isinf(cur).sum())
    return Column(name, "numeric", np.sort(ref[np.isfinite(ref)]),
                  np.sort(cur[np.isfinite(cur)]), dropped=dropped)


def categorical(name: str, reference, current) -> Column:
    """Values of any type (strings, ints, bools); None and NaN are nulls. Codes come from
    pandas' hash-based factorize: no sort of a million strings, no loop over rows."""
    import pandas as pd

    ref = pd.Series(reference).dropna()
    cur = pd.Series(current).dropna()
    codes, levels = pd.factorize(pd.concat([ref, cur], ignore_index=True))
    return Column(name, "categorical", codes[:ref.size], codes[ref.size:], int(levels.size))


def choose(col: Column) -> str:
    """Evidently's default: a test for a small reference, a distance for a large one."""
    return choose_by(col.kind, col.distinct, col.reference.size)


def choose_by(kind: str, distinct: int, reference_rows: int) -> str:
    """choose(), from what it looks at: the column's kind, its distinct values over both
    sides, the reference's rows (a stored profile has these without the samples)."""
    few = kind == "categorical" or distinct <= FEW_VALUES
    if reference_rows <= SMALL:
        if few:
            return "chisquare" if distinct > 2 else "z"
        return "ks"
    return "jensenshannon" if few else "wasserstein"


# -- numeric ----------------------------------------------------------------------------------

def _cdfs(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both empirical CDFs at every value of either sample (u, v sorted), and the gaps
    between those values."""
    everything = np.concatenate([u, v])
    everything.sort(kind="mergesort")  # two sorted runs: a merge
    u_cdf = np.searchsorted(u, everything, side="right") / u.size
    v_cdf = np.searchsorted(v, everything, side="right") / v.size
    return u_cdf, v_cdf, everything


def wasserstein(u: np.ndarray, v: np.ndarray) -> float:
    """The first Wasserstein distance of two sorted samples: the area between their CDFs
    (scipy's definition). Both are walked in one merged order, each CDF a running count, so
    the cost past the two sorts is linear: no search of two million values into a million.
    Within a run of equal values the gap to the next is 0, so where a tie's count lands
    inside the run adds nothing."""
    merged = np.concatenate([u, v])
    order = np.argsort(merged, kind="stable")  # two sorted runs: a merge
    from_u = order < u.size
    u_cdf = np.cumsum(from_u)[:-1] / u.size
    v_cdf = np.cumsum(~from_u)[:-1] / v.size
    return float(np.sum(np.abs(u_cdf - v_cdf) * np.diff(merged[order])))


def wasserstein_normed(u: np.ndarray, v: np.ndarray) -> float:
    """Wasserstein distance in units of the reference's standard deviation (Evidently's
    normed form: one threshold then means the same for every column's scale)."""
    return wasserstein(u, v) / max(float(np.std(u)), 0.001)


def ks_statistic(u: np.ndarray, v: np.ndarray) -> float:
    u_cdf, v_cdf, _ = _cdfs(u, v)
    return float(np.max(np.abs(u_cdf - v_cdf)))


def ks_pvalue(u: np.ndarray, v: np.ndarray) -> float:
    """Two-sided p-value of the two-sample KS test. The statistic is computed here; the
    p-value from it by scipy's own routine (exact for small samples, asymptotic past
    10,000 per side), so the two agree by construction."""
    from scipy.stats import ks_2samp

    return float(ks_2samp(u, v, method="auto").pvalue)


# -- categorical -----------------------------------------------------------------------------

def counts(col: Column) -> tuple[np.ndarray, np.ndarray]:
    levels = col.levels or int(max(col.reference.max(initial=0), col.current.max(initial=0)) + 1)
    return (np.bincount(col.reference, minlength=levels).astype(np.float64),
            np.bincount(col.current, minlength=levels).astype(np.float64))


def chisquare_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Pearson's chi-squared test that both samples come from one distribution: the 2 x k
    table of counts (scipy.stats.chi2_contingency, no continuity correction). Evidently
    tests the current counts against the reference's shares taken as exact
    (scipy.stats.chisquare); that ignores the reference's own sampling noise, and on two
    samples of 300 rows from one distribution it called drift in 25% of trials."""
    from scipy.stats import chi2

    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]  # a value neither side has is no category
    if table.shape[1] < 2:
        return 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return float(chi2.sf(stat, table.shape[1] - 1))


def z_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Two-proportion z-test on the share of the first of two values (binary columns)."""
    from scipy.stats import norm

    n1, n2 = ref_counts.sum(), cur_counts.sum()
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (ref_counts[0] + cur_counts[0]) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:  # both sides all one value: no difference to test
        return 1.0
    return float(2 * norm.sf(abs((p1 - p2) / se)))


def jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) of two distributions given as counts or
    shares (scipy.spatial.distance.jensenshannon)."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2
    return float(np.sqrt((_kl(p, m) + _kl(q, m)) / 2))


def _kl(p: np.ndarray, m: np.ndarray) -> float:
    ok = p > 0
    return float(np.sum(p[ok] * np.log(p[ok] / m[ok])))


def _floored(c: np.ndarray) -> np.ndarray:
    share = c / c.sum()
    share[share == 0] = FLOOR
    return share / share.sum()


def binned(col: Column) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin for Jensen-Shannon, empty bins left empty: per category; for a
    numeric column per value when the reference has at most PER_VALUE distinct values
    (current values the reference never had get their own bins), else Sturges' bins over
    both samples (Evidently's choices)."""
    if col.kind == "categorical":
        ref, cur = counts(col)
    elif np.unique(col.reference).size <= PER_VALUE:
        ref, cur = _as_counts(col)
    else:
        edges = np.histogram_bin_edges(np.concatenate([col.reference, col.current]),
                                       bins="sturges")
        ref = np.histogram(col.reference, edges)[0].astype(np.float64)
        cur = np.histogram(col.current, edges)[0].astype(np.float64)
    return ref / ref.sum(), cur / cur.sum()


def psi(col: Column, bins: int = 10) -> float:
    """Population stability index: bins at the reference's quantiles (categories for a
    categorical column), sum of (current - reference) * ln(current / reference) shares."""
    if col.kind == "categorical":
        ref, cur = counts(col)
    else:
        edges = np.unique(np.quantile(col.reference, np.linspace(0, 1, bins + 1)))
        inner = edges[1:-1]  # values below the first or above the last fall in the ends
        ref = np.bincount(np.searchsorted(inner, col.reference, side="right"),
                          minlength=inner.size + 1).astype(np.float64)
        cur = np.bincount(np.searchsorted(inner, col.current, side="right"),
                          minlength=inner.size + 1).astype(np.float64)
    return psi_of(ref, cur)


def psi_of(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """PSI of two sides' counts in the same bins (an empty bin at the floor share)."""
    r, c = _floored(ref_counts.astype(np.float64)), _floored(cur_counts.astype(np.float64))
    return float(np.sum((c - r) * np.log(c / r)))


def score(col: Column, method: str) -> float:
    if method == "ks":
        return ks_pvalue(col.reference, col.current)
    if method == "wasserstein":
        return wasserstein_normed(col.reference, col.current)
    if method == "jensenshannon":
        return jensenshannon(*binned(col))
    ref, cur = counts(col) if col.kind == "categorical" else _as_counts(col)
    if method == "chisquare":
        return chisquare_pvalue(ref, cur)
    if method == "z":
        return z_pvalue(ref, cur)
    raise ValueError(f"unknown drift method '{method}' (use one of {', '.join(THRESHOLDS)})")


def _as_counts(col: Column) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column with few values, counted per value."""
    levels, codes = np.unique(np.concatenate([col.reference, col.current]),
                              return_inverse=True)
    n = col.reference.size
    return counts(Column(col.name, "categorical", codes[:n], codes[n:], int(levels.size)))


def drifted(method: str, value: float, threshold: float) -> bool:
    return value <= threshold if method in P_VALUES else value >= threshold


__all__ = ["FEW_VALUES", "PER_VALUE", "P_VALUES", "SMALL", "THRESHOLDS", "Column", "binned",
           "categorical", "chisquare_pvalue", "choose", "choose_by", "counts", "drifted",
           "jensenshannon", "ks_pvalue", "ks_statistic", "numeric", "psi", "psi_of", "score",
           "wasserstein", "wasserstein_normed", "z_pvalue"]
