"""`@function`: turn a plain Python function into a Fleet function, validated at import time.

A Fleet function takes one pydantic model and returns one (Modal-style early validation: a
wrong signature fails when the module is imported, with a message that says what to change,
not when the first user invokes it). The decorated function stays a plain function, so it
can be called directly in tests and pickled by reference into Ray workers.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from fleet import messages
from fleet.cadence import parse_schedule
from fleet.errors import DefinitionError
from fleet.names import FUNCTION_RE

SPEC_ATTR = "__fleet_spec__"


@dataclass(frozen=True)
class FunctionSpec:
    """What Fleet knows about a function: its models and the resources it runs with."""

    name: str
    fn: Callable[[Any], Any]
    input_model: type[BaseModel]
    output_model: type[BaseModel] | None
    cpus: float
    gpus: float
    memory_mb: int | None
    timeout_s: float
    retries: int
    schedule: str | None
    description: str
    warm: int = 0
    max_inputs: int = 1
    # Run only on nodes with these Ray labels (e.g. {"accelerator": "A100"}): Ray's
    # label_selector, so a function reaches the node group meant for it.
    node_labels: tuple[tuple[str, str], ...] = ()
    # What an invocation changes, from its validated input: (verb, resource) that the
    # caller needs a role for (fleet.permissions), or None when it changes nothing that
    # needs one. Checked by the invocations service for every entry point.
    requires: Callable[[Any], tuple[str, str] | None] | None = None

    @property
    def qualname(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"

    def ray_options(self) -> dict[str, Any]:
        """Options for the Ray task. Exceptions are not retried; a dead worker is."""
        opts: dict[str, Any] = {
            "num_cpus": self.cpus,
            "num_gpus": self.gpus,
            "max_retries": self.retries,
            "retry_exceptions": False,
            "name": f"fleet:{self.name}",
        }
        if self.memory_mb:
            opts["memory"] = self.memory_mb * 1024 * 1024
        if self.node_labels:
            opts["label_selector"] = dict(self.node_labels)
        return opts

    def describe(self) -> dict[str, Any]:
        """The public view: what GET /v1/functions and `fleet functions` show."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_model.model_json_schema(),
            "output_schema": self.output_model.model_json_schema() if self.output_model else None,
            "resources": {"cpus": self.cpus, "gpus": self.gpus, "memory_mb": self.memory_mb},
            "node_labels": dict(self.node_labels),
            "timeout_s": self.timeout_s,
            "retries": self.retries,
            "schedule": self.schedule,
            "warm": self.warm,
            "max_inputs": self.max_inputs,
        }


def _fail(fn: Callable, problem: str) -> DefinitionError:
    where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"
    return DefinitionError(messages.FUNCTION_DEFINITION.format(where=where, problem=problem))


def _models(fn: Callable) -> tuple[type[BaseModel], type[BaseModel] | None]:
    params = list(inspect.signature(fn).parameters.values())
    if len(params) != 1:
        raise _fail(fn, f"takes {len(params)} parameters; a Fleet function takes exactly one, "
                        "a pydantic model (def f(req: MyRequest) -> MyResult).")
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # an annotation that cannot be resolved
        raise _fail(fn, f"its type hints cannot be resolved ({exc}).") from None
    input_model = hints.get(params[0].name)
    if not (inspect.isclass(input_model) and issubclass(input_model, BaseModel)):
        raise _fail(fn, f"parameter '{params[0].name}' must be annotated with a pydantic "
                        "BaseModel subclass.")
    output_model = hints.get("return")
    if output_model is type(None):
        output_model = None
    elif not (inspect.isclass(output_model) and issubclass(output_model, BaseModel)):
        raise _fail(fn, "the return annotation must be a pydantic BaseModel subclass "
                        "(or None).")
    return input_model, output_model


def function(
    fn: Callable | None = None,
    *,
    name: str | None = None,
    cpus: float = 1,
    gpus: float = 0,
    memory_mb: int | None = None,
    timeout_s: float = 3600,
    retries: int = 1,
    schedule: str | None = None,
    description: str | None = None,
    warm: int = 0,
    max_inputs: int = 1,
    node_labels: dict[str, str] | None = None,
    requires: Callable[[Any], tuple[str, str] | None] | None = None,
):
    """Register `fn` as a Fleet function. Usable bare (`@function`) or with options.

    cpus/gpus may be fractional (Ray resources); timeout_s stops the run and records it as
    timed_out; retries counts re-runs after the worker process dies (exceptions are not
    retried: a bug fails the same way twice); schedule is a cron expression or '@every 10s'.

    warm keeps that many runner processes with the function loaded, each taking up to
    max_inputs invocations at once (in threads), for short functions called often: an
    invocation is then one actor call instead of a Ray task (bench/gateway: about a fifth
    of the CPU). Each runner holds the function's cpus/gpus/memory while it lives.
    Invocations beyond warm * max_inputs run as tasks of their own, as without warm.
    node_labels places it on nodes carrying those Ray labels (a GPU group, `fleet up
    --workers`' fleet.io/node=worker-1). requires maps the validated input to the (verb,
    resource) a caller needs a role for, e.g. `lambda req: ("deploy",
    f"endpoint:{req.endpoint}")` (fleet.config.roles), or None for an input that needs none.
    """

    def wrap(f: Callable) -> Callable:
        if not callable(f) or inspect.isclass(f):
            raise _fail(f, "decorate a function, not a class or value.")
        fname = name or f.__name__
        if not FUNCTION_RE.match(fname):
            raise _fail(f, f"name '{fname}' must be lower_snake_case, 1-63 characters.")
        if cpus < 0 or gpus < 0:
            raise _fail(f, "cpus and gpus must be >= 0.")
        if timeout_s <= 0:
            raise _fail(f, "timeout_s must be > 0.")
        if retries < 0 or int(retries) != retries:
            raise _fail(f, "retries must be a whole number >= 0.")
        if warm < 0 or int(warm) != warm:
            raise _fail(f, "warm must be a whole number >= 0 (runner processes kept).")
        if max_inputs < 1 or int(max_inputs) != max_inputs:
            raise _fail(f, "max_inputs must be a whole number >= 1.")
        if max_inputs > 1 and not warm:
            raise _fail(f, "max_inputs applies to warm runners: set warm >= 1 too.")
        if memory_mb is not None and memory_mb <= 0:
            raise _fail(f, "memory_mb must be > 0 when set.")
        if node_labels is not None and not (
                isinstance(node_labels, dict) and all(
                    isinstance(k, str) and isinstance(v, str) and k and v
                    for k, v in node_labels.items())):
            raise _fail(f, "node_labels must map label names to values, both non-empty "
                           "strings, e.g. {'accelerator': 'A100'}.")
        if inspect.iscoroutinefunction(f):
            raise _fail(f, "async functions are not supported yet; write a plain def.")
        if schedule is not None:
            parse_schedule(schedule)  # raises InvalidInput with the accepted forms
        input_model, output_model = _models(f)
        doc = inspect.getdoc(f) or ""
        spec = FunctionSpec(
            name=fname,
            fn=f,
            input_model=input_model,
            output_model=output_model,
            cpus=float(cpus),
            gpus=float(gpus),
            memory_mb=memory_mb,
            timeout_s=float(timeout_s),
            retries=int(retries),
            schedule=schedule,
            description=description or (doc.splitlines()[0] if doc else ""),
            warm=int(warm),
            max_inputs=int(max_inputs),
            node_labels=tuple(sorted((node_labels or {}).items())),
            requires=requires,
        )
        setattr(f, SPEC_ATTR, spec)
        return f

    return wrap(fn) if fn is not None else wrap


def spec_of(obj: Any) -> FunctionSpec | None:
    return getattr(obj, SPEC_ATTR, None) if callable(obj) else None
