"""A reference table's statistics, computed once, and drift checks against them without the
table: Evidently computes the reference's statistics on every check (its issue 506; 23
minutes at 356k rows x 100 columns).

A profile keeps, per column, what the default methods need, exactly where it can:
- numeric: rows, standard deviation, the nulls and infinite values left out, QUANTILES
  quantiles (the quantile function at 0, 1/(Q-1), ..., 1: min and max included), the PSI
  bins (edges at the deciles, and the reference's count in each), and when the column has
  at most stats.PER_VALUE distinct values, each value with its count;
- categorical: each level with its count;
- a reference of at most stats.SMALL rows keeps its whole column: the tests chosen for
  small references (KS, chi-squared, z) then run on the same data as the exact check.

What is exact and what is not, against fleet.drift.report.compare on the same tables:
the method chosen, PSI, chi-squared, z, Jensen-Shannon per category or per value, and
every score of a small reference are exact. Wasserstein compares the current column with
the reference's quantile function, linear between the stored quantiles: its score is
within 1% of the exact one on the test sets (tests/unit/test_drift_profile.py), so a verdict
can differ only for a score within 1% of its threshold. Jensen-Shannon in Sturges' bins
(a method forced on a many-valued column) takes the reference's share per bin from the
same quantile function. KS forced on a large reference compares the current ECDF with it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace

import numpy as np

from fleet import messages
from fleet.config.drift import DriftOptions
from fleet.drift import stats
from fleet.drift.report import (
    ColumnDrift,
    DriftResult,
    _table_problems,
    as_numbers,
    result_of,
    threshold_for,
)
from fleet.errors import FieldProblem, InvalidInput

QUANTILES = 2001
TAIL = 200  # quantiles kept in each tail, log-spaced
PSI_BINS = 10


@dataclass
class ColumnProfile:
    kind: str  # numeric | categorical
    rows: int  # non-null (and finite) values
    dropped: int = 0  # infinite values left out
    std: float = 0.0
    quantiles: np.ndarray | None = None
    probs: np.ndarray | None = None  # the probability of each quantile
    psi_inner: np.ndarray | None = None  # inner PSI edges (the deciles, unique)
    psi_counts: np.ndarray | None = None
    values: np.ndarray | None = None  # few-valued numeric: the values; categorical: levels
    counts: np.ndarray | None = None  # the count of each of `values`
    sample: np.ndarray | None = None  # a small reference: the whole sorted column


ARRAYS = ("quantiles", "probs", "psi_inner", "psi_counts", "values", "counts", "sample")


@dataclass
class Profile:
    rows: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # JSON: e.g. the CBPE calibration

    def representative(self, name: str, n: int = 20_000) -> np.ndarray:
        """`n` values distributed as column `name` was (for plots): the quantile function
        at evenly spaced probabilities, or each level repeated in its share."""
        c = self.columns[name]
        if c.sample is not None:
            return c.sample
        if c.kind == "numeric":
            return np.interp(np.linspace(0, 1, n), c.probs, c.quantiles)
        return np.repeat(c.values, np.maximum(np.round(c.counts / c.counts.sum() * n), 1)
                         .astype(np.int64))

    def to_bytes(self) -> bytes:
        """One .npz: the arrays, and the rest as JSON."""
        arrays, meta = {}, {"rows": self.rows, "columns": {}, "extra": self.extra}
        for i, (name, c) in enumerate(self.columns.items()):
            entry = {"kind": c.kind, "rows": c.rows, "dropped": c.dropped, "std": c.std,
                     "key": f"c{i}", "arrays": []}
            for attr in ARRAYS:
                value = getattr(c, attr)
                if value is not None:
                    arrays[f"c{i}.{attr}"] = value
                    entry["arrays"].append(attr)
            meta["columns"][name] = entry
        buf = io.BytesIO()
        np.savez_compressed(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                            **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(bytes(z["__meta__"]).decode())
        out = cls(rows=meta["rows"], extra=meta.get("extra", {}))
        for name, e in meta["columns"].items():
            out.columns[name] = ColumnProfile(
                e["kind"], e["rows"], e["dropped"], e["std"],
                **{a: z[f"{e['key']}.{a}"] for a in e["arrays"]})
        return out


def _probs(n: int) -> np.ndarray:
    """Where the quantile function is kept: evenly, and densely in both tails (down to one
    row in n), where a long tail's few values carry much of a distance."""
    tail = 10.0 ** -np.linspace(np.log10(QUANTILES - 1), np.log10(max(n, QUANTILES)), TAIL)
    return np.unique(np.concatenate([np.linspace(0, 1, QUANTILES), tail, 1 - tail]))


def _numeric_profile(values: np.ndarray) -> ColumnProfile:
    dropped = int(np.isinf(values).sum())
    v = np.sort(values[np.isfinite(values)])
    c = ColumnProfile("numeric", int(v.size), dropped)
    if v.size == 0:
        return c
    c.std = float(np.std(v))
    c.probs = _probs(v.size)
    c.quantiles = v[np.clip(np.ceil(c.probs * v.size).astype(np.int64) - 1, 0, v.size - 1)]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, PSI_BINS + 1)))
    c.psi_inner = edges[1:-1]
    c.psi_counts = np.bincount(np.searchsorted(c.psi_inner, v, side="right"),
                               minlength=c.psi_inner.size + 1)
    # at most PER_VALUE distinct values: counted per value (a cheap test on sorted data)
    if v.size and np.count_nonzero(np.diff(v)) < stats.PER_VALUE:
        c.values, c.counts = np.unique(v, return_counts=True)
    if v.size <= stats.SMALL:
        c.sample = v
    return c


def _categorical_profile(values) -> ColumnProfile:
    import pandas as pd

    s = pd.Series(values).dropna()
    counted = s.value_counts(sort=False)
    c = ColumnProfile("categorical", int(s.size))
    c.values = np.asarray([str(x) for x in counted.index], dtype=object).astype(str)
    c.counts = counted.to_numpy(dtype=np.int64)
    if s.size <= stats.SMALL:
        c.sample = np.asarray([str(x) for x in s], dtype=str)
    return c


def profile(table, columns: list[str] | None = None,
            options: DriftOptions | None = None) -> Profile:
    """The profile of `columns` (default: all) of a pandas DataFrame. Numeric columns (but
    those `options.categorical` names) keep quantiles; the others their level counts."""
    import pandas as pd

    options = options or DriftOptions()
    out = Profile(rows=len(table))
    for name in columns or list(table.columns):
        col = table[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            raise InvalidInput(messages.DRIFT_DATETIME.format(column=name), [FieldProblem(
                name, messages.DRIFT_DATETIME.format(column=name), messages.DRIFT_DATETIME_FIX)])
        if (name not in options.categorical and pd.api.types.is_numeric_dtype(col)
                and not pd.api.types.is_bool_dtype(col)):
            out.columns[name] = _numeric_profile(
                col.to_numpy(dtype="float64", na_value=float("nan")))
        else:
            out.columns[name] = _categorical_profile(col)
    return out


def column_profile(values: np.ndarray) -> ColumnProfile:
    """One column's profile, numeric for a float or int array, else categorical: a
    reference too large to hold as a table is profiled a column at a time."""
    values = np.asarray(values)
    if values.dtype.kind in "fiu":
        return _numeric_profile(values.astype(np.float64, copy=False))
    return _categorical_profile(values)


# -- checking a current table against a profile ------------------------------------------

def _ref_cdf(c: ColumnProfile, x: np.ndarray) -> np.ndarray:
    """The reference's CDF at `x`: linear between the stored quantiles."""
    q, p = c.quantiles, c.probs
    # np.interp needs increasing x: equal quantiles (a value many rows share) hold a jump;
    # the right-continuous CDF there is the highest p of the run
    uq, last = np.unique(q[::-1], return_index=True)
    top = p[::-1][last]
    return np.interp(x, uq, top, left=0.0, right=1.0)


def _wasserstein(c: ColumnProfile, cur: np.ndarray) -> float:
    """Wasserstein distance between the reference's quantile function and the current
    sorted column, on a grid of 4x the stored quantiles, in units of the reference's std."""
    grid = np.union1d(np.linspace(0, 1, 4 * (QUANTILES - 1) + 1), c.probs)
    ref_q = np.interp(grid, c.probs, c.quantiles)
    # the current's quantile function (inverted CDF) read off the sorted column
    cur_q = cur[np.clip(np.ceil(grid * cur.size).astype(np.int64) - 1, 0, cur.size - 1)]
    gap = np.abs(ref_q - cur_q)
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(grid))) / max(c.std, 0.001)


def _per_value(c: ColumnProfile, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts per value over both sides (values only the current has get their own)."""
    levels = np.union1d(c.values, np.unique(cur))
    ref = np.zeros(levels.size)
    ref[np.searchsorted(levels, c.values)] = c.counts
    cur_counts = np.bincount(np.searchsorted(levels, cur), minlength=levels.size)
    return ref, cur_counts.astype(np.float64)


def _categorical_counts(c: ColumnProfile, cur) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    counted = pd.Series(np.asarray([str(x) for x in cur], dtype=str)).value_counts(sort=False)
    levels = list(dict.fromkeys([*c.values.tolist(), *counted.index.tolist()]))
    at = {v: i for i, v in enumerate(levels)}
    ref = np.zeros(len(levels))
    ref[[at[v] for v in c.values.tolist()]] = c.counts
    now = np.zeros(len(levels))
    now[[at[v] for v in counted.index.tolist()]] = counted.to_numpy()
    return ref, now


def _psi(c: ColumnProfile, cur: np.ndarray) -> float:
    """PSI in the reference's stored bins."""
    return stats.psi_of(c.psi_counts, np.bincount(
        np.searchsorted(c.psi_inner, cur, side="right"), minlength=c.psi_inner.size + 1))


def _judge(name: str, c: ColumnProfile, current, options: DriftOptions) -> ColumnDrift:
    if c.sample is not None:  # a small reference: the exact check on its own column
        from fleet.drift.report import _judge as exact

        col = (stats.numeric(name, c.sample, current) if c.kind == "numeric"
               else stats.categorical(name, c.sample, np.asarray(current).astype(str)))
        return exact(col, options)
    if c.kind == "categorical":
        ref, cur = _categorical_counts(c, current)
        distinct, n_cur = int(np.count_nonzero(ref + cur)), int(cur.sum())
        psi = stats.psi_of(ref, cur)
    else:
        cur_sorted = np.sort(current)
        few = c.values is not None
        ref = cur = None
        if few:
            ref, cur = _per_value(c, cur_sorted)
            distinct = int(np.count_nonzero(ref + cur))
        else:
            distinct = stats.PER_VALUE + 1  # more than FEW_VALUES whatever the current holds
        n_cur = int(cur_sorted.size)
        psi = _psi(c, cur_sorted)
    method = options.methods.get(name) or stats.choose_by(c.kind, distinct, c.rows)
    threshold = threshold_for(options, name, method)
    if method == "wasserstein":
        value = _wasserstein(c, cur_sorted)
    elif method == "ks":
        from scipy.stats import kstwo

        x = np.concatenate([cur_sorted, c.quantiles])
        ecdf = np.searchsorted(cur_sorted, x, side="right") / max(cur_sorted.size, 1)
        d = float(np.max(np.abs(_ref_cdf(c, x) - ecdf)))
        en = c.rows * n_cur / (c.rows + n_cur)
        value = float(kstwo.sf(d, max(int(round(en)), 1)))
    elif ref is not None:
        value = {"jensenshannon": lambda: stats.jensenshannon(ref, cur),
                 "chisquare": lambda: stats.chisquare_pvalue(ref, cur),
                 "z": lambda: stats.z_pvalue(ref, cur)}[method]()
    else:  # Jensen-Shannon in Sturges' bins over both sides
        lo, hi = min(c.quantiles[0], cur_sorted[0]), max(c.quantiles[-1], cur_sorted[-1])
        edges = np.histogram_bin_edges([lo, hi], bins=int(np.ceil(np.log2(c.rows + n_cur))) + 1)
        ref_share = np.diff(_ref_cdf(c, edges))
        ref_share[-1] += 1 - _ref_cdf(c, edges[-1:])[0]
        value = stats.jensenshannon(ref_share, np.histogram(cur_sorted, edges)[0] * 1.0)
    return ColumnDrift(name, c.kind, method, value, threshold,
                       stats.drifted(method, value, threshold), psi, c.rows, n_cur, c.dropped)


def compare_profile(prof: Profile, current, columns: list[str],
                    options: DriftOptions | None = None) -> DriftResult:
    """`columns` of a pandas DataFrame against a stored profile: fleet.drift.report.compare
    without the reference table (what is exact and what is within a tolerance: above)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    options = options or DriftOptions()
    stand_in = pd.DataFrame({n: [] for n in prof.columns}) if prof.rows == 0 else \
        pd.DataFrame({n: [0] for n in prof.columns})
    problems = _table_problems(stand_in, current, columns, options)
    if problems:
        raise InvalidInput(messages.DRIFT_INPUT_INVALID.format(count=len(problems)), problems)

    def one(name: str) -> ColumnDrift | FieldProblem:
        c = prof.columns[name]
        values, infinite = current[name], 0
        if pd.api.types.is_datetime64_any_dtype(values):
            return FieldProblem(name, messages.DRIFT_DATETIME.format(column=name),
                                messages.DRIFT_DATETIME_FIX)
        if c.kind == "numeric":
            if not pd.api.types.is_numeric_dtype(values):  # numbers sent as text, or not
                values = as_numbers(name, "current", values)
                if isinstance(values, FieldProblem):
                    return values
            values = pd.Series(values).to_numpy(dtype="float64", na_value=float("nan"))
            infinite = int(np.isinf(values).sum())
            values = values[np.isfinite(values)]
        else:
            values = values.dropna().to_numpy()
        fewest = min(c.rows, len(values))
        if fewest < options.min_rows:
            return FieldProblem(name, messages.DRIFT_TOO_FEW.format(
                column=name, rows=fewest, needed=options.min_rows), messages.DRIFT_TOO_FEW_FIX)
        return replace(_judge(name, c, values, options), dropped=c.dropped + infinite)

    with ThreadPoolExecutor(max_workers=min(len(columns), os.cpu_count() or 1) or 1) as pool:
        judged = list(pool.map(one, columns))
    problems = [j for j in judged if isinstance(j, FieldProblem)]
    if problems:
        raise InvalidInput(messages.DRIFT_INPUT_INVALID.format(count=len(problems)), problems)
    return result_of(judged, options, prof.rows, len(current))


__all__ = ["QUANTILES", "ColumnProfile", "Profile", "column_profile", "compare_profile",
           "profile"]
