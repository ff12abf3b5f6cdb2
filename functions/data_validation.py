"""validate_data: check a tabular dataset before anyone trains on it.

Every check reports the column, what was observed and the threshold, so a failed run tells
the data scientist what to fix without opening a notebook.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field, model_validator

from fleet import function
from fleet.artifacts import ReadLocation

ColumnType = Literal["int", "float", "number", "string", "bool", "datetime"]


class Range(BaseModel):
    min: float | None = None
    max: float | None = None


class ValidateDataRequest(BaseModel):
    path: ReadLocation = Field(
        description="A .parquet or .csv file: a path, file:// or s3:// URI under a data root.")
    format: Literal["auto", "parquet", "csv"] = "auto"
    required_columns: dict[str, ColumnType] = Field(
        default_factory=dict, description="Column name -> expected type.")
    max_null_ratio: float = Field(default=1.0, ge=0, le=1,
                                  description="Largest share of nulls allowed in any column.")
    max_null_ratio_per_column: dict[str, float] = Field(default_factory=dict)
    ranges: dict[str, Range] = Field(default_factory=dict)
    allowed_values: dict[str, list[Any]] = Field(default_factory=dict)
    max_duplicate_ratio: float | None = Field(default=None, ge=0, le=1)
    min_rows: int = Field(default=1, ge=0)
    label_column: str | None = None
    min_class_ratio: float | None = Field(
        default=None, ge=0, le=1, description="Smallest share any label class may have.")

    @model_validator(mode="after")
    def _balance_needs_label(self):
        if self.min_class_ratio is not None and not self.label_column:
            raise ValueError("min_class_ratio needs label_column")
        return self


class Check(BaseModel):
    check: str
    column: str | None = None
    passed: bool
    observed: Any = None
    threshold: Any = None
    message: str = ""


class ValidateDataResult(BaseModel):
    passed: bool
    rows: int
    columns: list[str]
    checks: list[Check]
    failures: list[Check]


def _read(req: ValidateDataRequest) -> pd.DataFrame:
    """Read a local path or a file:// / s3:// URI (through Fleet's artifact storage)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from fleet.artifacts import ArtifactStore, to_uri
    from fleet.config import load_settings

    uri = to_uri(req.path)
    fs, path = ArtifactStore(load_settings()).pyarrow_filesystem(uri)
    if fs.get_file_info(path).type.name == "NotFound":
        raise FileNotFoundError(f"path '{req.path}' does not exist")
    fmt = req.format
    if fmt == "auto":
        fmt = "parquet" if path.lower().endswith((".parquet", ".pq")) else "csv"
    if fmt == "parquet":
        return pq.read_table(path, filesystem=fs).to_pandas()
    with fs.open_input_stream(path) as f:
        raw = f.read()
    if not raw.strip():
        return pd.DataFrame()
    import io

    return pacsv.read_csv(io.BytesIO(raw)).to_pandas()


def _type_ok(series: pd.Series, expected: str) -> bool:
    api = pd.api.types
    return {
        "int": api.is_integer_dtype,
        "float": api.is_float_dtype,
        "number": api.is_numeric_dtype,
        "string": lambda s: api.is_string_dtype(s) or api.is_object_dtype(s),
        "bool": api.is_bool_dtype,
        "datetime": api.is_datetime64_any_dtype,
    }[expected](series) and not (expected in ("int", "float", "number")
                                 and api.is_bool_dtype(series))


def _missing(check: str, col: str) -> Check:
    """A check that cannot run because its column is absent fails, saying so."""
    return Check(check=check, column=col, passed=False, message=f"column '{col}' is missing")


def _checks(df: pd.DataFrame, req: ValidateDataRequest) -> list[Check]:
    out: list[Check] = []
    rows = len(df)
    out.append(Check(check="min_rows", passed=rows >= req.min_rows, observed=rows,
                     threshold=req.min_rows, message=f"{rows} rows, need >= {req.min_rows}"))
    for col, expected in req.required_columns.items():
        if col not in df.columns:
            out.append(Check(check="column_present", column=col, passed=False, observed=None,
                             threshold=expected, message=f"column '{col}' is missing"))
            continue
        actual = str(df[col].dtype)
        out.append(Check(check="column_type", column=col, passed=_type_ok(df[col], expected),
                         observed=actual, threshold=expected,
                         message=f"'{col}' is {actual}, expected {expected}"))
    for col in df.columns:
        limit = req.max_null_ratio_per_column.get(col, req.max_null_ratio)
        ratio = float(df[col].isna().mean()) if rows else 0.0
        if limit < 1.0 or col in req.max_null_ratio_per_column:
            out.append(Check(check="null_ratio", column=col, passed=ratio <= limit,
                             observed=round(ratio, 6), threshold=limit,
                             message=f"{ratio:.2%} nulls in '{col}', limit {limit:.2%}"))
    for col, rng in req.ranges.items():
        if col not in df.columns:
            out.append(_missing("range", col))
            continue
        values = pd.to_numeric(df[col], errors="coerce").dropna()
        lo = float(values.min()) if len(values) else None
        hi = float(values.max()) if len(values) else None
        ok = (rng.min is None or lo is None or lo >= rng.min) and (
            rng.max is None or hi is None or hi <= rng.max)
        out.append(Check(check="range", column=col, passed=ok, observed={"min": lo, "max": hi},
                         threshold=rng.model_dump(),
                         message=f"'{col}' spans [{lo}, {hi}], allowed [{rng.min}, {rng.max}]"))
    for col, allowed in req.allowed_values.items():
        if col not in df.columns:
            out.append(_missing("allowed_values", col))
            continue
        bad = sorted({str(v) for v in df[col].dropna().unique() if v not in set(allowed)})
        out.append(Check(check="allowed_values", column=col, passed=not bad,
                         observed=bad[:20], threshold=allowed,
                         message=f"'{col}' has {len(bad)} value(s) outside the allowed set"))
    if req.max_duplicate_ratio is not None:
        ratio = float(df.duplicated().mean()) if rows else 0.0
        out.append(Check(check="duplicate_ratio", passed=ratio <= req.max_duplicate_ratio,
                         observed=round(ratio, 6), threshold=req.max_duplicate_ratio,
                         message=f"{ratio:.2%} duplicate rows, limit "
                                 f"{req.max_duplicate_ratio:.2%}"))
    if req.label_column:
        col = req.label_column
        if col not in df.columns:
            out.append(_missing("label_balance", col))
        elif req.min_class_ratio is not None:
            shares = df[col].value_counts(normalize=True)
            smallest = float(shares.min()) if len(shares) else 0.0
            out.append(Check(check="label_balance", column=col,
                             passed=smallest >= req.min_class_ratio,
                             observed={str(k): round(float(v), 6) for k, v in shares.items()},
                             threshold=req.min_class_ratio,
                             message=f"smallest class share {smallest:.2%}, "
                                     f"need >= {req.min_class_ratio:.2%}"))
    return out


@function(cpus=0.5, timeout_s=900, retries=1)
def validate_data(req: ValidateDataRequest) -> ValidateDataResult:
    """Check a tabular dataset (parquet or CSV) against thresholds before training."""
    df = _read(req)
    checks = _checks(df, req)
    failures = [c for c in checks if not c.passed]
    return ValidateDataResult(passed=not failures, rows=len(df), columns=[str(c) for c in
                                                                           df.columns],
                              checks=checks, failures=failures)
