"""Reading a training table from artifact storage (file or s3), with clear errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from fleet.artifacts import ArtifactStore


class DataError(ValueError):
    """The data cannot be used as asked: names the column or file and what to change."""


def read_table(store: ArtifactStore, uri: str) -> tuple[pd.DataFrame, str]:
    """Read parquet or CSV; returns the frame and a content fingerprint."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fs, path = store.pyarrow_filesystem(uri)
    h = hashlib.sha256()
    try:
        with fs.open_input_stream(path) as f:
            while chunk := f.read(8 * 1024 * 1024):
                h.update(chunk)
        if path.endswith((".parquet", ".pq")):
            table = pq.read_table(path, filesystem=fs)
        else:
            with fs.open_input_stream(path) as f:
                table = pacsv.read_csv(f)
    except FileNotFoundError:
        raise DataError(f"No data at '{uri}'. Check the path (file:// or s3://).") from None
    except (OSError, pa.ArrowInvalid) as exc:
        msg = str(exc)
        if "Empty CSV" in msg or "empty" in msg.lower():
            raise DataError(f"'{uri}' is empty: it has no header and no rows.") from None
        raise DataError(f"Cannot read '{uri}': {msg.splitlines()[0]}") from None
    df = table.to_pandas()
    if len(df) == 0:
        raise DataError(f"'{uri}' has a header but no rows.")
    return df, f"sha256:{h.hexdigest()}"


def select(df: pd.DataFrame, features: list[str], label: str, task: str
           ) -> tuple[np.ndarray, np.ndarray, list]:
    """Features as float32, the label as class indices or floats; classes for classifiers."""
    missing = [c for c in [*features, label] if c not in df.columns]
    if missing:
        raise DataError(f"Column(s) {missing} not in the data; it has {list(df.columns)}.")
    bad = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise DataError(f"Feature column(s) {bad} are not numeric; encode them first or "
                        "leave them out of features.")
    x = df[features].to_numpy(dtype=np.float32)
    if np.isnan(x).any():
        raise DataError("Features contain nulls; fill or drop them (validate_data finds them).")
    y_raw = df[label]
    if y_raw.isna().any():
        raise DataError(f"Label '{label}' has nulls; drop those rows.")
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y_raw) or pd.api.types.is_bool_dtype(y_raw):
            raise DataError(f"Label '{label}' must be numeric for regression; it is "
                            f"{y_raw.dtype}.")
        return x, y_raw.to_numpy(dtype=np.float32), []
    if pd.api.types.is_float_dtype(y_raw) and not np.all(np.mod(y_raw, 1) == 0):
        raise DataError(f"Label '{label}' has fractional values; a classifier needs classes. "
                        "Use task=regression, or round/encode the label.")
    classes = sorted(y_raw.unique().tolist(), key=str)
    if len(classes) < 2:
        raise DataError(f"Label '{label}' has one class only ({classes}); nothing to learn.")
    index = {c: i for i, c in enumerate(classes)}
    return x, y_raw.map(index).to_numpy(dtype=np.int64), classes
