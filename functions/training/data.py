"""Reading a training table from artifact storage (file or s3), with clear errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from fleet import messages
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
        raise DataError(messages.DATA_MISSING.format(uri=uri)) from None
    except (OSError, pa.ArrowInvalid) as exc:
        msg = str(exc)
        if "Empty CSV" in msg or "empty" in msg.lower():
            raise DataError(messages.DATA_EMPTY.format(uri=uri)) from None
        reason = msg.splitlines()[0]
        raise DataError(messages.DATA_UNREADABLE.format(uri=uri, reason=reason)) from None
    df = table.to_pandas()
    if len(df) == 0:
        raise DataError(messages.DATA_NO_ROWS.format(uri=uri))
    return df, f"sha256:{h.hexdigest()}"


def select(df: pd.DataFrame, features: list[str], label: str, task: str
           ) -> tuple[np.ndarray, np.ndarray, list]:
    """Features as float32, the label as class indices or floats; classes for classifiers."""
    missing = [c for c in [*features, label] if c not in df.columns]
    if missing:
        raise DataError(messages.DATA_COLUMNS_MISSING.format(missing=missing,
                                                             columns=list(df.columns)))
    bad = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise DataError(messages.DATA_NOT_NUMERIC.format(bad=bad))
    x = df[features].to_numpy(dtype=np.float32)
    if np.isnan(x).any():
        raise DataError(messages.DATA_FEATURE_NULLS)
    y_raw = df[label]
    if y_raw.isna().any():
        raise DataError(messages.DATA_LABEL_NULLS.format(label=label))
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y_raw) or pd.api.types.is_bool_dtype(y_raw):
            raise DataError(messages.DATA_LABEL_NOT_NUMERIC.format(label=label,
                                                                   dtype=y_raw.dtype))
        return x, y_raw.to_numpy(dtype=np.float32), []
    if pd.api.types.is_float_dtype(y_raw) and not np.all(np.mod(y_raw, 1) == 0):
        raise DataError(messages.DATA_LABEL_FRACTIONAL.format(label=label))
    classes = sorted(y_raw.unique().tolist(), key=str)
    if len(classes) < 2:
        raise DataError(messages.DATA_ONE_CLASS.format(label=label, classes=classes))
    index = {c: i for i, c in enumerate(classes)}
    return x, y_raw.map(index).to_numpy(dtype=np.int64), classes


def validation_rows(n: int, seed: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows) of a table of `n` rows, as `train` splits it: the
    same seed gives the same split, so a drift check can find the rows a version never
    trained on (to calibrate its confidence)."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(n * fraction))
    return order[n_val:], order[:n_val]
