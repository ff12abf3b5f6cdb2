"""Where a drift check's two tables come from.

- An endpoint's logged predictions over a window (fleet.serving.predlog writes them as
  JSON lines under <root>/predictions/<model>/v<version>/<day>/): read with pyarrow's JSON
  reader, one table per file, flattened so that each feature is a column and each output
  field (prediction, probability) one too.
- A table at a URI (parquet or CSV, file:// or s3://), for data Fleet did not log, or a
  model's training data from its lineage. Reading is fleet.artifacts' (roots checked).
"""

from __future__ import annotations

import io
import time

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

DAY_S = 86_400


def day_folders(since: float, until: float) -> list[str]:
    """The day folders a window's rows can be in (a flush lands in its first row's day)."""
    days, t = [], since - DAY_S
    while t <= until + DAY_S:
        days.append(time.strftime("%Y-%m-%d", time.gmtime(t)))
        t += DAY_S
    return sorted(set(days))


def logged_window(artifacts, root: str, model: str, version: int, since: float, until: float,
                  *, max_rows: int):
    """The rows `model` v`version` logged with since <= at < until, the newest `max_rows`,
    as a DataFrame: one column per input feature and per output field, plus `at`."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.json as pajson

    prefix = f"{root.rstrip('/')}/predictions/{model}/v{version}"
    tables = []
    for day in day_folders(since, until):
        for name in artifacts.list(f"{prefix}/{day}"):
            if not name.endswith(".jsonl"):
                continue
            data = artifacts.get_bytes(f"{prefix}/{day}/{name}")
            try:
                t = pajson.read_json(io.BytesIO(data))
            except pa.ArrowInvalid:
                continue  # a torn write (the replica died mid-flush): its rows are lost
            tables.append(_flatten(t))
    if not tables:
        return pd.DataFrame()
    table = pa.concat_tables(tables, promote_options="permissive")
    df = table.to_pandas()
    df = df[(df["at"] >= since) & (df["at"] < until)]
    if len(df) > max_rows:
        df = df.nlargest(max_rows, "at")
    return df.reset_index(drop=True)


KEYS = ("request_id", "row")  # which answer and instance a row is: labels join on these


def _flatten(table):
    """input.x -> x, output.prediction -> prediction, plus `at` and the answer's request id
    and instance index (KEYS) where logged; model, version, latency dropped."""
    import pyarrow as pa

    cols, names = [], []
    for field_name in ("input", "output"):
        if field_name not in table.column_names:
            continue
        col = table.column(field_name)
        if not pa.types.is_struct(col.type):
            continue
        for i, sub in enumerate(col.type):
            cols.append(pa.compute.struct_field(col, [i]))
            names.append(sub.name)
    for name in ("at", *KEYS):
        if name in table.column_names and name not in names:
            cols.append(table.column(name))
            names.append(name)
    return pa.table(dict(zip(names, cols, strict=True)))


def read_uri(artifacts, uri: str, field: str):
    """A parquet or CSV table at `uri` (file:// or s3://) as a DataFrame; a clear error
    naming `field` when it cannot be read."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fs, path = artifacts.pyarrow_filesystem(uri)
    try:
        if path.endswith((".parquet", ".pq")):
            table = pq.read_table(path, filesystem=fs)
        elif path.endswith((".csv", ".csv.gz")):
            with fs.open_input_stream(path) as f:
                table = pacsv.read_csv(f)
        else:
            raise InvalidInput(messages.DRIFT_BAD_URI.format(uri=uri), [FieldProblem(
                field, "not parquet or CSV", "Name a .parquet or .csv file.")])
    except FileNotFoundError:
        raise InvalidInput(messages.DATA_MISSING.format(uri=uri), [FieldProblem(
            field, "no such file", "Check the path, or write the data there first.")]) from None
    except (OSError, pa.ArrowInvalid) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(messages.DATA_UNREADABLE.format(uri=uri, reason=reason), [
            FieldProblem(field, "unreadable", "Write it as parquet or CSV with a header.")]
        ) from None
    return table.to_pandas()
