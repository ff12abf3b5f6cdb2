"""One drift comparison: every chosen column of a reference table against a current one,
each with its method, score, threshold, verdict and PSI, and the dataset verdict (the share
of drifted columns against `drift_share`).

Bad input is refused whole, with every problem named by its column and the fix, and no
result: an empty window, a column missing on one side, a column with only nulls on a side,
too few rows for a method. A drift report built on any of those would be noise.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from fleet import messages
from fleet.config.drift import DriftOptions
from fleet.drift import stats
from fleet.errors import FieldProblem, InvalidInput


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str
    method: str
    score: float
    threshold: float
    drifted: bool
    psi: float
    reference_rows: int
    current_rows: int
    dropped: int = 0  # infinite values left out, like the nulls (numeric columns)


@dataclass
class DriftResult:
    columns: list[ColumnDrift]
    drift_share: float
    drifted_share: float = 0.0
    dataset_drift: bool = False
    reference_rows: int = 0
    current_rows: int = 0
    drifted_columns: list[str] = field(default_factory=list)

    def public(self) -> dict:
        return asdict(self)


def compare(reference, current, columns: list[str], options: DriftOptions | None = None
            ) -> DriftResult:
    """Compare `columns` of two pandas DataFrames."""
    options = options or DriftOptions()
    problems = _table_problems(reference, current, columns, options)
    if problems and not (len(reference) and len(current)):  # an empty side says it all
        raise InvalidInput(messages.DRIFT_INPUT_INVALID.format(count=len(problems)), problems)
    named = {p.field for p in problems}
    wanted = [name for name in columns if name not in named]

    def prepare(name: str):
        col = _column(name, reference[name], current[name], options)
        if isinstance(col, FieldProblem):
            return None, col
        return col, _column_problem(col, options)

    # Columns in threads: numpy's sorts and scans release the GIL, and a million rows a
    # side make each column tens of milliseconds of work.
    with ThreadPoolExecutor(max_workers=min(len(wanted), os.cpu_count() or 1) or 1) as pool:
        prepared = list(pool.map(prepare, wanted))
        problems += [problem for _, problem in prepared if problem]
        if problems:
            raise InvalidInput(messages.DRIFT_INPUT_INVALID.format(count=len(problems)),
                               problems)
        results = list(pool.map(lambda pc: _judge(pc[0], options), prepared))
    return result_of(results, options, len(reference), len(current))


def result_of(columns: list[ColumnDrift], options: DriftOptions, reference_rows: int,
              current_rows: int) -> DriftResult:
    """The dataset's verdict from its columns' (the share drifted against drift_share)."""
    out = DriftResult(columns=columns, drift_share=options.drift_share,
                      reference_rows=reference_rows, current_rows=current_rows)
    out.drifted_columns = [c.column for c in columns if c.drifted]
    out.drifted_share = len(out.drifted_columns) / len(columns)
    out.dataset_drift = out.drifted_share >= options.drift_share
    return out


def threshold_for(options: DriftOptions, column: str, method: str) -> float:
    """The column's own threshold, else the method's in the options, else the default."""
    return options.thresholds.get(column, options.thresholds.get(
        method, stats.THRESHOLDS[method]))


def _judge(col: stats.Column, options: DriftOptions) -> ColumnDrift:
    method = options.methods.get(col.name) or stats.choose(col)
    threshold = threshold_for(options, col.name, method)
    value = stats.score(col, method)
    return ColumnDrift(col.name, col.kind, method, value, threshold,
                       stats.drifted(method, value, threshold), stats.psi(col),
                       int(col.reference.size), int(col.current.size), col.dropped)


def _table_problems(reference, current, columns, options) -> list[FieldProblem]:
    problems = []
    for side, table in (("reference", reference), ("current", current)):
        if len(table) == 0:
            problems.append(FieldProblem(side, messages.DRIFT_EMPTY.format(side=side),
                                         messages.DRIFT_EMPTY_FIX))
    if not columns:
        problems.append(FieldProblem("columns", "no columns to compare",
                                     "Name the features (and the prediction) to compare."))
    for name in columns:  # an empty side is one problem, not one per column
        missing = [side for side, t in (("reference", reference), ("current", current))
                   if len(t) and name not in t.columns]
        if missing:
            problems.append(FieldProblem(name, messages.DRIFT_MISSING.format(
                column=name, side=" and ".join(missing)), messages.DRIFT_MISSING_FIX))
    for name, method in options.methods.items():
        if method not in stats.THRESHOLDS:
            problems.append(FieldProblem(f"methods.{name}", f"unknown method '{method}'",
                                         f"Use one of {', '.join(stats.THRESHOLDS)}."))
    return problems


def _column(name: str, ref, cur, options: DriftOptions) -> stats.Column | FieldProblem:
    """The column's two samples, numeric or categorical. A numeric column whose other side
    arrived as text is read as numbers when every value is one (numbers sent as strings),
    and refused, naming the values, when some are not: as categories it would have hidden
    any shift. A datetime column is refused: time always moves on, so it always drifts."""
    import pandas as pd

    types = pd.api.types
    if types.is_datetime64_any_dtype(ref) or types.is_datetime64_any_dtype(cur):
        return FieldProblem(name, messages.DRIFT_DATETIME.format(column=name),
                            messages.DRIFT_DATETIME_FIX)
    if name not in options.categorical and not types.is_bool_dtype(ref):
        sides = {"reference": ref, "current": cur}
        if sum(types.is_numeric_dtype(v) for v in sides.values()) == 1:
            for side, values in sides.items():
                if not types.is_numeric_dtype(values):
                    parsed = as_numbers(name, side, values)
                    if isinstance(parsed, FieldProblem):
                        return parsed
                    sides[side] = parsed
            ref, cur = sides["reference"], sides["current"]
        if types.is_numeric_dtype(ref) and types.is_numeric_dtype(cur):
            return stats.numeric(name, ref.to_numpy(dtype="float64", na_value=float("nan")),
                                 cur.to_numpy(dtype="float64", na_value=float("nan")))
    return stats.categorical(name, ref, cur)


def as_numbers(name: str, side: str, values):
    """Text values read as numbers (numbers sent as strings), or the problem naming how
    many are not numbers, with one of them: as categories they would hide any shift."""
    import pandas as pd

    parsed = pd.to_numeric(values, errors="coerce")
    bad = values[parsed.isna() & values.notna()]
    if len(bad):
        return FieldProblem(name, messages.DRIFT_NOT_NUMBERS.format(
            column=name, side=side, bad=len(bad), rows=len(values),
            example=str(bad.iloc[0])[:40]), messages.DRIFT_NOT_NUMBERS_FIX)
    return parsed


def _column_problem(col: stats.Column, options: DriftOptions) -> FieldProblem | None:
    empty = [side for side, v in (("reference", col.reference), ("current", col.current))
             if v.size == 0]
    if empty:
        return FieldProblem(col.name, messages.DRIFT_ALL_NULL.format(
            column=col.name, side=" and ".join(empty)), messages.DRIFT_ALL_NULL_FIX)
    method = options.methods.get(col.name)
    if method in ("wasserstein", "ks") and col.kind == "categorical":
        return FieldProblem(f"methods.{col.name}", f"{method} needs numbers; "
                            f"'{col.name}' is categorical", "Use chisquare, z or "
                            "jensenshannon for it.")
    fewest = min(col.reference.size, col.current.size)
    if fewest < options.min_rows:
        return FieldProblem(col.name, messages.DRIFT_TOO_FEW.format(
            column=col.name, rows=fewest, needed=options.min_rows),
            messages.DRIFT_TOO_FEW_FIX)
    return None


__all__ = ["ColumnDrift", "DriftOptions", "DriftResult", "as_numbers", "compare", "result_of",
           "threshold_for"]
