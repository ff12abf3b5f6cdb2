"""The body of every Fleet Ray task: validate, run the user's function, record the outcome.

The worker records its own outcome, so a result is durable the moment it exists, whoever
is waiting for it. What a worker cannot record (its own death, a timeout, a cancel) is
recorded by the supervisor; the store's compare-and-set makes the first writer win.
"""

from __future__ import annotations

import importlib
import traceback
from typing import Any

from pydantic import BaseModel, ValidationError

from fleet import messages
from fleet.config import load_settings
from fleet.registry import add_function_paths
from fleet.runtime import context
from fleet.spec import FunctionSpec, spec_of
from fleet.store import Status, open_store

MAX_ERROR_CHARS = 4000


def dump_result(spec: FunctionSpec, out: Any) -> Any:
    """Check the return value against the output model and make it JSON."""
    if spec.output_model is None:
        return None if out is None else out
    if not isinstance(out, spec.output_model):
        out = spec.output_model.model_validate(out if not isinstance(out, BaseModel)
                                               else out.model_dump())
    return out.model_dump(mode="json")


def _load(module: str, qualname: str) -> FunctionSpec:
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return spec_of(obj)


def run_invocation(inv_id: str, module: str, qualname: str, payload: dict,
                   caller: str = "unknown", via: str = "python") -> str:
    """Run one attempt. Returns the status it recorded (or 'skipped').

    The function comes as module + qualified name, imported here after the configured
    function paths are on sys.path: the worker imports only that function's module, not
    the whole registry, so worker start-up stays short when Ray scales out workers."""
    settings = load_settings()
    add_function_paths(settings)
    store = open_store(settings.resolved_store_url)
    if store.invocations.mark_running(inv_id) is None:
        return "skipped"  # cancelled or ended while waiting for resources
    spec = _load(module, qualname)
    bound = context.bind(context.InvocationContext(inv_id, caller, via))
    try:
        req = spec.input_model.model_validate(payload)
        out = spec.fn(req)
        try:
            result = dump_result(spec, out)
        except ValidationError as exc:
            store.invocations.finish(
                inv_id, Status.FAILED, error_type="InvalidResult",
                error_message=messages.RESULT_INVALID.format(reason=exc)[:MAX_ERROR_CHARS])
            return Status.FAILED.value
    except Exception as exc:  # the user's function failed: record it, do not retry
        store.invocations.finish(
            inv_id, Status.FAILED, error_type=type(exc).__name__,
            error_message=(str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS],
            error_traceback=traceback.format_exc()[-20000:])
        return Status.FAILED.value
    finally:
        context.unbind(bound)
    store.invocations.finish(inv_id, Status.SUCCEEDED, result=result)
    return Status.SUCCEEDED.value
