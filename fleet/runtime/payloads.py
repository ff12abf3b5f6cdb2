"""Input validation shared by every entry point, with problems that name the field and fix."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from fleet import messages
from fleet.artifacts.access import FORBIDDEN
from fleet.errors import FieldProblem, Forbidden, InvalidInput
from fleet.spec import FunctionSpec


def _fix(kind: str, field: str, name: str) -> str:
    if kind == "missing":
        return f"Add '{field}'; it is required."
    if kind == "extra_forbidden":
        return f"Remove '{field}'; it is not an input of '{name}'."
    return messages.FIELD_FIX.format(field=field, name=name)


def _known_keys(spec: FunctionSpec) -> set[str]:
    keys: set[str] = set()
    for fname, f in spec.input_model.model_fields.items():
        keys.add(fname)
        if f.alias:
            keys.add(f.alias)
    return keys


def validate_payload(spec: FunctionSpec, payload: Any) -> dict:
    """Validate against the input model; return the normalised JSON form that gets stored.

    Unknown keys are refused even when the model would ignore them: a misspelt option that
    is silently dropped is the worst kind of bug to find after a four-hour training run."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidInput(messages.PAYLOAD_NOT_OBJECT.format(name=spec.name),
                           [FieldProblem("body", "not a JSON object", "Send {...}.")])
    problems: list[FieldProblem] = []
    refused: list[str] = []  # details of locations outside the data roots
    extra_allowed = spec.input_model.model_config.get("extra") == "allow"
    if not extra_allowed:
        for key in sorted(set(payload) - _known_keys(spec)):
            problems.append(FieldProblem(key, "unknown field",
                                         _fix("extra_forbidden", key, spec.name)))
    try:
        model = spec.input_model.model_validate(payload)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            field = ".".join(str(p) for p in err["loc"]) or "body"
            if any(p.field == field for p in problems):
                continue
            if err["type"] == FORBIDDEN:
                refused.append(err["msg"])
                problems.append(FieldProblem(field, err["msg"], messages.PATH_FIX))
                continue
            problems.append(FieldProblem(field, err["msg"], _fix(err["type"], field, spec.name)))
        model = None
    if refused and len(refused) == len(problems):  # nothing else wrong: a plain refusal
        raise Forbidden(refused[0], problems)
    if problems:
        raise InvalidInput(messages.INVALID_PAYLOAD.format(name=spec.name, count=len(problems)),
                           problems)
    return model.model_dump(mode="json")


def parse_key_values(args: list[str]) -> dict[str, Any]:
    """CLI / job arguments `key=value`.

    Lists, objects, quoted strings and null are read as JSON; everything else stays a
    string and the input model coerces it ('3' -> 3 for an int field), so `name=007`
    stays '007' for a string field."""
    out: dict[str, Any] = {}
    for arg in args:
        key, sep, raw = arg.partition("=")
        if not sep or not key:
            raise InvalidInput(messages.BAD_KEY_VALUE.format(arg=arg),
                               [FieldProblem(arg, "not key=value", "Write it as key=value.")])
        value: Any = raw
        if raw[:1] in ("[", "{", '"') or raw == "null":
            try:
                value = json.loads(raw)
            except ValueError:
                raise InvalidInput(messages.BAD_KEY_VALUE.format(arg=arg), [FieldProblem(
                    key, "not valid JSON", "Quote lists and objects as JSON.")]) from None
        out[key.strip()] = value
    return out
