import pandas as pd
import pytest

from functions.data_validation import ValidateDataRequest, validate_data

pytestmark = pytest.mark.usefixtures("data_root")


@pytest.fixture
def table(tmp_path):
    df = pd.DataFrame({
        "age": [25, 31, 47, 52, 61, 200, 33, 33],
        "income": [40.0, 52.5, None, 70.1, 80.0, 90.0, 61.0, 61.0],
        "city": ["oslo", "rome", "oslo", "paris", "rome", "oslo", "lima", "lima"],
        "label": [0, 1, 0, 1, 0, 0, 0, 0],
    })
    csv = tmp_path / "t.csv"
    df.to_csv(csv, index=False)
    pq = tmp_path / "t.parquet"
    df.to_parquet(pq)
    return csv, pq


def run(path, **kw):
    return validate_data(ValidateDataRequest(path=str(path), **kw))


def test_clean_table_passes_on_both_formats(table):
    for path in table:
        res = run(path, required_columns={"age": "int", "city": "string"}, min_rows=5)
        assert res.passed and res.rows == 8 and res.failures == []


def test_every_failed_check_names_column_and_observed_value(table):
    res = run(table[1], required_columns={"age": "float", "zip": "string"},
              max_null_ratio=0.1, ranges={"age": {"min": 0, "max": 120}},
              allowed_values={"city": ["oslo", "rome", "paris"]}, max_duplicate_ratio=0.0,
              min_rows=100, label_column="label", min_class_ratio=0.3)
    failed = {(c.check, c.column): c for c in res.failures}
    assert not res.passed
    assert failed[("column_type", "age")].observed == "int64"
    assert ("column_present", "zip") in failed
    assert failed[("null_ratio", "income")].observed == pytest.approx(0.125)
    assert failed[("range", "age")].observed == {"min": 25.0, "max": 200.0}
    assert failed[("allowed_values", "city")].observed == ["lima"]
    assert failed[("duplicate_ratio", None)].observed == pytest.approx(0.125)
    assert failed[("min_rows", None)].observed == 8
    assert failed[("label_balance", "label")].observed == {"0": 0.75, "1": 0.25}


def test_empty_file_fails_min_rows(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    res = run(p, min_rows=1)
    assert not res.passed and res.failures[0].check == "min_rows"


def test_missing_file_raises_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run(tmp_path / "nope.csv")


def test_balance_needs_a_label_column():
    with pytest.raises(ValueError, match="min_class_ratio needs label_column"):
        ValidateDataRequest(path="x.csv", min_class_ratio=0.2)
