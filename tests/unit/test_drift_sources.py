"""Where a drift check's data comes from, on local files and on real S3 (SeaweedFS): the
prediction logs the serving path writes (fleet.serving.predlog), read back as one column per
feature and output for exactly the asked window; a torn log file is skipped; a table at a
URI is read as parquet or CSV, or refused with the field named."""

from __future__ import annotations

import time

import pytest

from fleet.drift.sources import logged_window, read_uri
from fleet.errors import InvalidInput
from fleet.serving.predlog import PredictionLog
from tests.unit.test_artifacts import bucket, settings_for, store  # noqa: F401 (fixtures)


def write_log(artifacts, rows, at):
    log = PredictionLog(artifacts, root=artifacts.root, model="m", version=3, sample_rate=1.0,
                        flush_rows=10_000, flush_s=3600)
    log.add([{"age": 20 + i, "plan": "pro" if i % 2 else "basic"} for i in range(rows)],
            [{"prediction": i % 2, "probability": 0.75} for i in range(rows)], 0.002)
    for r in log._rows:  # rows logged at a known moment
        r["at"] = at
    uri = log.flush()
    log.close()
    return uri


def test_a_window_reads_its_rows_only_with_a_column_per_feature_and_output(store):  # noqa: F811
    now = time.time()
    write_log(store, 40, now - 7200)  # two hours ago: outside the last hour
    write_log(store, 50, now - 60)
    store.put_bytes(b'{"at": 1, "input": {"age"', f"{store.root}/predictions/m/v3/"
                    f"{time.strftime('%Y-%m-%d', time.gmtime(now))}/torn-000001.jsonl")
    df = logged_window(store, store.root, "m", 3, now - 3600, now, max_rows=1000)
    assert len(df) == 50
    assert {"age", "plan", "prediction", "probability", "at"} <= set(df.columns)
    assert sorted(df["age"].tolist()) == list(range(20, 70))
    assert len(logged_window(store, store.root, "m", 3, now - 3600, now, max_rows=10)) == 10
    assert len(logged_window(store, store.root, "m", 4, now - 3600, now, max_rows=10)) == 0


def test_a_table_at_a_uri_is_read_or_refused_by_name(store, tmp_path):  # noqa: F811
    import pandas as pd

    csv = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2, 3]}).to_csv(csv, index=False)
    assert read_uri(store, csv.as_uri(), "current_uri")["a"].tolist() == [1, 2, 3]
    for uri, problem in (((tmp_path / "t.json").as_uri(), "not parquet or CSV"),
                         ((tmp_path / "none.csv").as_uri(), "no such file")):
        with pytest.raises(InvalidInput) as err:
            read_uri(store, uri, "current_uri")
        assert (err.value.errors[0].field, err.value.errors[0].message) == (
            "current_uri", problem)
