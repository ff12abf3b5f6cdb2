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
- when every runner is full, an invocation waits for the first free one (a burst of short
  runs queues here: a task each would cost five times the CPU and slow the burst down);
  only when no runner has freed a place for `SPILL_AFTER_S` (they hold long runs) does it
  run as a task of its own, as without warm;
- a timed-out or cancelled invocation cannot be stopped inside a shared process (a thread
  cannot be killed), so its runner is retired: it takes no new work, is replaced at once,
  and is killed as soon as its other invocations end, stuck thread included.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ray

from fleet.spec import FunctionSpec

log = logging.getLogger("fleet.runners")
SPILL_AFTER_S = 1.0  # no runner freed a place for this long: run as a task instead


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
    function: str
    inflight: int = 0
    retired: bool = False
    method: object = None  # the bound `run` with its options, made once


class RunnerPool:
    """The warm runners of every function, owned by the supervisor (they die with it, as
    its tasks do, and the next supervisor starts new ones)."""

    def __init__(self) -> None:
        self._slots: dict[str, list[Slot]] = {}
        self._waiting: dict[str, collections.deque] = {}  # (future, deadline), oldest first
        self._checking: dict[str, asyncio.Task] = {}
        self._freed: dict[str, float] = {}  # function -> when a runner last freed a place

    def _new(self, spec: FunctionSpec) -> Slot:
        opts = {"num_cpus": spec.cpus, "num_gpus": spec.gpus, "max_restarts": -1,
                "max_concurrency": spec.max_inputs + 2}
        if spec.memory_mb:
            opts["memory"] = spec.memory_mb * 1024 * 1024
        handle = _RunnerActor.options(**opts).remote(
            spec.fn.__module__, spec.fn.__qualname__, spec.max_inputs)
        return Slot(handle, spec.name)

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

    async def acquire(self, spec: FunctionSpec, deadline: float) -> Slot | None:
        """A runner for one invocation: one with room now, else the first to free a place.
        None (run it as a task) for a function without runners, when no runner has freed
        a place for SPILL_AFTER_S, or at `deadline` (time.time()). One timer per function
        checks the waiting (a timer each cost thousands of wake-ups a second in a burst)."""
        slot = self.take(spec)
        if slot is not None or not spec.warm:
            return slot
        fut = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(spec.name, collections.deque()).append(
            (fut, deadline, time.monotonic()))
        if spec.name not in self._checking:
            self._checking[spec.name] = asyncio.get_running_loop().create_task(
                self._check_waiting(spec.name))
        try:
            return await fut
        except BaseException:  # cancelled while waiting: give back a place handed over
            if fut.done() and not fut.cancelled():
                self.release(fut.result())
            raise

    async def _check_waiting(self, name: str) -> None:
        """While invocations wait for `name`'s runners: let go (to the task path) those
        past their deadline, and all of them when no runner has freed a place for
        SPILL_AFTER_S (the runners hold long runs)."""
        try:
            while self._waiting.get(name):
                await asyncio.sleep(SPILL_AFTER_S / 4)
                now, mono = time.time(), time.monotonic()
                freed = self._freed.get(name, 0.0)
                keep: collections.deque = collections.deque()
                for fut, deadline, since in self._waiting.get(name, ()):
                    if fut.done():
                        continue
                    if deadline <= now or mono - max(freed, since) >= SPILL_AFTER_S:
                        fut.set_result(None)
                    else:
                        keep.append((fut, deadline, since))
                self._waiting[name] = keep
        finally:
            self._checking.pop(name, None)

    @staticmethod
    def call(slot: Slot, spec: FunctionSpec, args: tuple) -> ray.ObjectRef:
        """Run on `slot`. No Ray retries: an invocation whose runner died runs again as a
        task (the supervisor decides; Ray's retry would meet the runner restarting)."""
        if slot.method is None:
            slot.method = slot.handle.run.options(name=f"fleet:{spec.name}")
        return slot.method.remote(*args)

    def release(self, slot: Slot) -> None:
        """An invocation left `slot`: its place goes to the longest waiting, if any."""
        slot.inflight -= 1
        if slot.retired:
            if slot.inflight <= 0:
                self._kill(slot)
            return
        self._freed[slot.function] = time.monotonic()
        self._hand_over(slot, 1)

    def _hand_over(self, slot: Slot, places: int) -> None:
        """Give up to `places` of `slot` to the longest waiting invocations."""
        waiting = self._waiting.get(slot.function)
        while waiting and places > 0:
            fut = waiting.popleft()[0]
            if not fut.done():
                slot.inflight += 1
                places -= 1
                fut.set_result(slot)

    def retire(self, spec: FunctionSpec, slot: Slot) -> None:
        """Take the runner out of service (a stuck or cancelled invocation lives in it):
        a fresh one takes its place now; it is killed when its last invocation ends."""
        if slot.retired:
            return
        slot.retired = True
        slots = self._slots.get(spec.name, [])
        if slot in slots:
            fresh = slots[slots.index(slot)] = self._new(spec)
            self._hand_over(fresh, spec.max_inputs)

    @staticmethod
    def _kill(slot: Slot) -> None:
        try:
            ray.kill(slot.handle, no_restart=True)
        except Exception:  # already gone
            log.debug("runner already gone", exc_info=True)


__all__ = ["Runner", "RunnerPool", "Slot"]
