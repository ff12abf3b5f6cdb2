"""Warm runners: processes that keep a function loaded and take several invocations at once.

A function declared with `warm=N` gets N runner actors, started with the supervisor, each
taking up to `max_inputs` invocations at a time (in threads). Why: on a 2-core machine a Ray
task per invocation cost 5-7 ms of CPU in Ray's worker-lease path (raylet, lease, a worker
woken per task), against about 1 ms for a call to an actor that is already running
(bench/gateway; docs/architecture.md has the figures). Modal's `min_containers` with
concurrent inputs, and a Serve replica's `max_ongoing_requests`, are the same idea.

The contract is the task path's:
- a runner holds the function's cpus/gpus/memory for as long as it lives;
- a runner that dies (OOM, a crash in native code) is restarted by Ray, and its in-flight
  invocations run again, as tasks of their own, while their `retries` allow;
- when every runner is full, an invocation runs as a task of its own (elastic, as without
  warm), so a burst never queues behind the warm pool;
- a timed-out or cancelled invocation cannot be stopped inside a shared process (a thread
  cannot be killed), so its runner is retired: it takes no new work, is replaced at once,
  and is killed as soon as its other invocations end, stuck thread included.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ray

from fleet.spec import FunctionSpec

log = logging.getLogger("fleet.runners")


class Runner:
    """The runner actor: one function, loaded once, `max_inputs` threads."""

    def __init__(self, module: str, qualname: str, max_inputs: int) -> None:
        from fleet.runtime.worker import load_function

        load_function(module, qualname)  # import now: the first invocation finds it loaded
        self._threads = ThreadPoolExecutor(max_inputs, thread_name_prefix="fleet-input")

    async def run(self, inv_id: str, module: str, qualname: str, payload: dict, caller: str,
                  via: str, attempt_base: int) -> dict | str:
        from fleet.runtime.worker import _ray_attempt, run_invocation

        # Ray's attempt number is known on this thread (the actor's), not in the pool's.
        attempt = attempt_base + _ray_attempt() + 1
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, functools.partial(run_invocation, inv_id, module, qualname,
                                             payload, caller, via, attempt=attempt))

    def pid(self) -> int:
        return os.getpid()


_RunnerActor = ray.remote(Runner)


@dataclass(eq=False)
class Slot:
    """One runner as the supervisor sees it."""

    handle: object
    inflight: int = 0
    retired: bool = False
    method: object = None  # the bound `run` with its options, made once


class RunnerPool:
    """The warm runners of every function, owned by the supervisor (they die with it, as
    its tasks do, and the next supervisor starts new ones)."""

    def __init__(self) -> None:
        self._slots: dict[str, list[Slot]] = {}

    def _new(self, spec: FunctionSpec) -> Slot:
        opts = {"num_cpus": spec.cpus, "num_gpus": spec.gpus, "max_restarts": -1,
                "max_concurrency": spec.max_inputs + 2}
        if spec.memory_mb:
            opts["memory"] = spec.memory_mb * 1024 * 1024
        handle = _RunnerActor.options(**opts).remote(
            spec.fn.__module__, spec.fn.__qualname__, spec.max_inputs)
        return Slot(handle)

    def start(self, spec: FunctionSpec) -> list[Slot]:
        """The function's runners, started on first use (the supervisor starts every warm
        function's at its own start)."""
        slots = self._slots.get(spec.name)
        if slots is None:
            slots = self._slots[spec.name] = [self._new(spec) for _ in range(spec.warm)]
        return slots

    def take(self, spec: FunctionSpec) -> Slot | None:
        """The least busy runner with room, or None (then the invocation runs as a task)."""
        if not spec.warm:
            return None
        best = None
        for slot in self.start(spec):
            if not slot.retired and slot.inflight < spec.max_inputs and (
                    best is None or slot.inflight < best.inflight):
                best = slot
        if best is not None:
            best.inflight += 1
        return best

    @staticmethod
    def call(slot: Slot, spec: FunctionSpec, args: tuple) -> ray.ObjectRef:
        """Run on `slot`. No Ray retries: an invocation whose runner died runs again as a
        task (the supervisor decides; Ray's retry would meet the runner restarting)."""
        if slot.method is None:
            slot.method = slot.handle.run.options(name=f"fleet:{spec.name}")
        return slot.method.remote(*args)

    def release(self, slot: Slot) -> None:
        slot.inflight -= 1
        if slot.retired and slot.inflight <= 0:
            self._kill(slot)

    def retire(self, spec: FunctionSpec, slot: Slot) -> None:
        """Take the runner out of service (a stuck or cancelled invocation lives in it):
        a fresh one takes its place now; it is killed when its last invocation ends."""
        if slot.retired:
            return
        slot.retired = True
        slots = self._slots.get(spec.name, [])
        if slot in slots:
            slots[slots.index(slot)] = self._new(spec)

    @staticmethod
    def _kill(slot: Slot) -> None:
        try:
            ray.kill(slot.handle, no_restart=True)
        except Exception:  # already gone
            log.debug("runner already gone", exc_info=True)


__all__ = ["Runner", "RunnerPool", "Slot"]
