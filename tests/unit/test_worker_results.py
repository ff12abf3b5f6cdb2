"""What a function returns must be JSON (or match its output model): the store keeps it as
JSON and a warm runner sends it to the supervisor as JSON (fleet.runtime.runner_channel).
A value that is not fails the invocation with a message that says what to return, instead
of an internal error (or, over a runner's channel, a run that never answers)."""

from __future__ import annotations

import json

from pydantic import BaseModel

from fleet import function
from fleet.runtime.worker import run_invocation


class Nothing(BaseModel):
    pass


# Declared `-> None` (no output model), yet returning a value: Python does not stop it.
@function(cpus=0.1, timeout_s=10)
def gives_a_set(req: Nothing) -> None:
    return {"ids": {1, 2}}  # type: ignore[return-value]


@function(cpus=0.1, timeout_s=10)
def gives_json(req: Nothing) -> None:
    return {"ids": [1, 2], "ok": True}  # type: ignore[return-value]


class Count(BaseModel):
    n: int


@function(cpus=0.1, timeout_s=10)
def miscounts(req: Nothing) -> Count:
    return {"n": "many"}  # type: ignore[return-value]


def _run(name: str) -> dict:
    return run_invocation(f"inv_{name}", __name__, name, {}, "ann", "http")


def test_a_result_that_is_not_json_fails_the_invocation_with_what_to_return(data_root):
    out = _run("gives_a_set")
    assert out["status"] == "failed" and out["error_type"] == "InvalidResult"
    assert "returned a dict, which is not JSON" in out["error_message"]
    assert "Return JSON values" in out["error_message"]
    json.dumps(out)  # and the outcome itself travels


def test_a_json_result_is_kept_as_it_is(data_root):
    out = _run("gives_json")
    assert out["status"] == "succeeded" and out["result"] == {"ids": [1, 2], "ok": True}


def test_a_result_its_output_model_refuses_fails_the_invocation_and_says_why(data_root):
    out = _run("miscounts")
    assert out["status"] == "failed" and out["error_type"] == "InvalidResult"
    assert "does not match its output model" in out["error_message"]
    assert "Count" in out["error_message"] and "valid integer" in out["error_message"]
