import pytest

from fleet.errors import InvalidInput
from fleet.registry import discover
from fleet.runtime.payloads import parse_key_values, validate_payload

SPEC = discover(("functions",)).get("validate_data")
pytestmark = pytest.mark.usefixtures("data_root")


def problems(payload):
    with pytest.raises(InvalidInput) as exc:
        validate_payload(SPEC, payload)
    return {p.field: p for p in exc.value.errors}


def test_missing_field_is_named_with_a_fix():
    p = problems({})
    assert "path" in p and "required" in p["path"].fix


def test_wrong_type_names_the_nested_field():
    p = problems({"path": "x.csv", "ranges": {"age": {"min": "old"}}})
    assert "ranges.age.min" in p


def test_unknown_field_is_refused_not_ignored():
    p = problems({"path": "x.csv", "min_row": 5})
    assert p["min_row"].message == "unknown field" and "Remove" in p["min_row"].fix


def test_valid_payload_is_normalised_with_defaults(data_root):
    data = validate_payload(SPEC, {"path": "x.csv", "min_rows": "10"})
    assert data["min_rows"] == 10 and data["format"] == "auto"
    assert data["path"] == (data_root / "x.csv").as_uri()  # relative to the caller, resolved


def test_body_must_be_an_object():
    assert "body" in problems([1, 2])


def test_key_values_keep_strings_and_parse_json_structures():
    assert parse_key_values(["name=007", "n=3", 'cols=["a","b"]', 'o={"k":1}', "z=null"]) == {
        "name": "007", "n": "3", "cols": ["a", "b"], "o": {"k": 1}, "z": None}
    with pytest.raises(InvalidInput, match="key=value"):
        parse_key_values(["novalue"])
    with pytest.raises(InvalidInput):
        parse_key_values(["cols=[1,"])
