"""The body of every Fleet Ray task: validate, run the user's function, hand over the outcome.

A short function (done within `RECORD_AFTER_S`) writes nothing: it returns its outcome, and
the supervisor records it through its group writer, many invocations to a commit. That is
what lets the invoke path hold its throughput as callers grow (bench/gateway): before, each
invocation made two more write transactions from its worker process, and the workers
queued on SQLite's lock. A function still running after `RECORD_AFTER_S` marks itself
running in the store and records its own outcome, so the result of long work is durable
the moment it exists, whoever waits for it. If the supervisor dies before it records a
short outcome, the invocation runs again while its retries allow (see supervisor).

What a worker cannot record (its own death, a timeout, a cancel) is recorded by the
supervisor; the store's compare-and-set makes the first writer win.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import json
import threading
import time
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
RECORD_AFTER_S = 1.0  # past this a run marks itself running and records its own outcome
MARK_SLACK_S = 0.05  # a mark may be written up to this much early or late


class InvalidResult(ValueError):
    """The function returned a value that its output model refuses, or, without one, that
    is not JSON: the store cannot keep it. The message says what to return."""


def dump_result(spec: FunctionSpec, out: Any) -> Any:
    """Check the return value against the output model and make it JSON (InvalidResult if
    it cannot be). Without an output model the value must already be JSON: the store keeps
    it so, and a warm runner sends it to the supervisor so (fleet.runtime.runner_channel)."""
    if spec.output_model is None:
        if out is not None:
            try:
                json.dumps(out)
            except (TypeError, ValueError) as exc:
                raise InvalidResult(messages.RESULT_NOT_JSON.format(
                    type=type(out).__name__, reason=exc)) from None
        return out
    if not isinstance(out, spec.output_model):
        try:
            out = spec.output_model.model_validate(out if not isinstance(out, BaseModel)
                                                   else out.model_dump())
        except ValidationError as exc:
            raise InvalidResult(messages.RESULT_INVALID.format(reason=exc)) from None
    return out.model_dump(mode="json")


_LOADED: dict[tuple[str, str], FunctionSpec] = {}


def load_function(module: str, qualname: str) -> FunctionSpec:
    """The function's spec, imported once per process (a worker runs many invocations)."""
    spec = _LOADED.get((module, qualname))
    if spec is None:
        add_function_paths(load_settings())
        spec = _LOADED[(module, qualname)] = _import(module, qualname)
    return spec


def _import(module: str, qualname: str) -> FunctionSpec:
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return spec_of(obj)


def _ray_attempt() -> int:
    """Ray's 0-based attempt number of this task (a retry after a worker died is 1, ...)."""
    try:
        import ray

        return int(ray._private.worker.global_worker.core_worker
                   .get_current_task_attempt_number())
    except Exception:
        return 0


class _Marks:
    """One thread holds every run's running-mark timer.

    A `threading.Timer` per run cost a thread start per invocation (0.2 ms, most of a no-op's
    time in this module); only the rare mark that comes due gets a thread, for its store
    write, so a slow store delays no other mark."""

    def __init__(self) -> None:
        self._heap: list = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._seq = itertools.count()

    def add(self, after_s: float, mark: _RunningMark) -> None:
        entry = (time.monotonic() + after_s, next(self._seq), mark)
        with self._cv:
            earliest = not self._heap or entry < self._heap[0]
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="fleet-marks",
                                                daemon=True)
                self._thread.start()
            # Wake the thread only when this mark is due before the one it waits for:
            # with one delay for every run that is only the first. A wake-up per run was
            # a thread switch per invocation in a busy runner.
            if earliest:
                self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    # Marks of runs that ended stay until due; waking for each would be a
                    # wake-up per run, so one wake-up takes every mark due within MARK_SLACK_S.
                    self._cv.wait(max(wait, MARK_SLACK_S))
                    continue
                due_by = time.monotonic() + MARK_SLACK_S
                due = []
                while self._heap and self._heap[0][0] <= due_by:
                    due.append(heapq.heappop(self._heap)[2])
            for mark in due:
                if mark.state == "pending":  # still running: mark it, off this thread
                    threading.Thread(target=mark.fire, daemon=True).start()


_MARKS = _Marks()


class _RunningMark:
    """Marks the invocation running once the function has run for `after_s`.

    `handover()` at the end decides who records the outcome: the supervisor (the mark was
    never written) or this worker (it was). The lock makes the two exclusive."""

    def __init__(self, inv_id: str, attempt: int, started_at: float, after_s: float) -> None:
        self._inv_id, self._attempt, self._started = inv_id, attempt, started_at
        self._lock = threading.Lock()
        self.state = "pending"  # -> handed | marked | ended
        _MARKS.add(after_s, self)

    def fire(self) -> None:
        with self._lock:
            if self.state != "pending":
                return
            store = _store()
            ok = store.invocations.mark_running(self._inv_id, attempt=self._attempt,
                                                started_at=self._started)
            self.state = "marked" if ok is not None else "ended"

    def handover(self) -> bool:
        """True when the supervisor records the outcome (the function was short)."""
        with self._lock:
            if self.state == "pending":
                self.state = "handed"
                return True
            return False


def _store():
    settings = load_settings()
    return open_store(settings.resolved_store_url)


def run_invocation(inv_id: str, module: str, qualname: str, payload: dict,
                   caller: str = "unknown", via: str = "python", attempt_base: int = 0,
                   record_after_s: float = RECORD_AFTER_S, *,
                   attempt: int | None = None) -> dict | str:
    """Run one attempt. Returns the outcome for the supervisor to record (a dict), or the
    status this worker recorded itself (a string; 'skipped' if it had already ended).

    The function comes as module + qualified name, imported here after the configured
    function paths are on sys.path: the worker imports only that function's module, not
    the whole registry, so worker start-up stays short when Ray scales out workers."""
    started = time.time()
    if attempt is None:  # a warm runner passes its own (fleet.runtime.runners)
        attempt = attempt_base + _ray_attempt() + 1
    spec = load_function(module, qualname)
    mark = _RunningMark(inv_id, attempt, started, record_after_s)
    bound = context.bind(context.InvocationContext(inv_id, caller, via, attempt))
    outcome: dict[str, Any] = {"status": Status.SUCCEEDED.value}
    try:
        req = spec.input_model.model_validate(payload)
        out = spec.fn(req)
        try:
            outcome["result"] = dump_result(spec, out)
        except InvalidResult as exc:
            outcome = {"status": Status.FAILED.value, "error_type": "InvalidResult",
                       "error_message": str(exc)[:MAX_ERROR_CHARS]}
    except Exception as exc:  # the user's function failed: record it, do not retry
        outcome = {"status": Status.FAILED.value, "error_type": type(exc).__name__,
                   "error_message": (str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS],
                   "error_traceback": traceback.format_exc()[-20000:]}
    finally:
        context.unbind(bound)
    outcome.update(attempt=attempt, started_at=started, finished_at=time.time())
    if mark.handover():
        return outcome
    if mark.state == "ended":
        return "skipped"  # cancelled or ended while it ran; the first writer won
    _store().invocations.finish(
        inv_id, Status(outcome["status"]), result=outcome.get("result"),
        error_type=outcome.get("error_type"), error_message=outcome.get("error_message"),
        error_traceback=outcome.get("error_traceback"))
    return outcome["status"]
