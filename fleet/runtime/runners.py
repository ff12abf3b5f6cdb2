"""Warm runners: processes that keep a function loaded and take several invocations at once.

A function declared with `warm=N` gets N runner actors, started at its first invocation
(a function nobody calls holds no resources) and kept while the supervisor lives, each
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
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ray

from fleet.runtime.runner_channel import ChannelServer, Link
from fleet.spec import FunctionSpec

log = logging.getLogger("fleet.runners")
SPILL_AFTER_S = 1.0  # no runner freed a place for this long: run as a task instead
BATCH_WAIT_S = 0.05  # a batch answers with what is done by then; the rest are collected
LINK_RETRY_S = 5.0  # a runner's channel that could not be opened is tried again after this


class RunnerBodyError(Exception):
    """Fleet's own code failed around an invocation in a runner (not the user's function,
    whose exceptions are outcomes): the supervisor records it as the task path would."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name


class Runner:
    """The runner actor: one function, loaded once, `max_inputs` threads.

    Invocations come in batches (one message carries every invocation the supervisor
    dispatched to this runner in one turn of its loop: a Ray call each was most of the
    dispatch cost), over the runner's channel when the supervisor shares its node
    (fleet.runtime.runner_channel: a Ray actor call was most of a short invocation's
    time), else as an actor call. A batch answers once all of it is done or after
    `wait_s`, with the outcomes it has; the supervisor collects each slower one with a
    call of its own."""

    def __init__(self, module: str, qualname: str, max_inputs: int) -> None:
        from fleet.runtime.worker import load_function

        load_function(module, qualname)  # import now: the first invocation finds it loaded
        self._module, self._qualname = module, qualname
        self._threads = ThreadPoolExecutor(max_inputs, thread_name_prefix="fleet-input")
        self._pending: dict[str, asyncio.Future] = {}
        self._channel: ChannelServer | None = None

    async def channel(self) -> tuple[str, str]:
        """(this node's id, the path of this runner's channel socket), opened on the first
        ask: fleet.runtime.runner_channel."""
        if self._channel is None:
            server = ChannelServer(self.run_batch)
            await server.start()
            self._channel = server
        return ray.get_runtime_context().get_node_id(), self._channel.path

    def _one(self, item) -> dict | str:
        from fleet.runtime.worker import run_invocation

        inv_id, payload, caller, via, attempt_base = item
        # No Ray retries on a runner: a run again after its death is a task of its own.
        return run_invocation(inv_id, self._module, self._qualname, payload, caller, via,
                              attempt=attempt_base + 1)

    async def run_batch(self, batch: list, wait_s: float) -> dict[str, tuple]:
        """Run a batch of this runner's own function: [id, payload, caller, via, attempts
        before] each, whether it came as an actor call or over the channel."""
        loop = asyncio.get_running_loop()
        futs = {item[0]: loop.run_in_executor(self._threads, self._one, item)
                for item in batch}
        self._pending.update(futs)
        await asyncio.wait(list(futs.values()), timeout=wait_s)
        return {inv_id: self._answer(inv_id) for inv_id, f in futs.items() if f.done()}

    async def collect(self, inv_id: str) -> tuple:
        """The outcome of an invocation its batch answered without."""
        fut = self._pending.get(inv_id)
        if fut is None:
            return ("error", "LookupError", "the runner no longer knows this invocation")
        await asyncio.wait([fut])
        return self._answer(inv_id)

    def _answer(self, inv_id: str) -> tuple:
        fut = self._pending.pop(inv_id)
        exc = fut.exception()
        if exc is None:
            return ("ok", fut.result())
        return ("error", type(exc).__name__, str(exc) or type(exc).__name__)


_RunnerActor = ray.remote(Runner)


@dataclass(eq=False)
class Slot:
    """One runner as the supervisor sees it."""

    handle: object
    function: str
    inflight: int = 0
    retired: bool = False
    method: object = None  # the bound `run_batch` with its options, made once
    queued: list | None = None  # (item, future) dispatched this turn of the loop
    link: Link | None = None  # the runner's channel, once open (same node only)
    linking: asyncio.Task | None = None  # opening it, or it could not be opened


def _settle(fut: asyncio.Future, answer) -> None:
    """Give a run's future its answer: an outcome, a RunnerBodyError, or Ray's error."""
    if fut.done():  # timed out or cancelled meanwhile: nobody waits for it
        return
    if not isinstance(answer, BaseException) and answer[0] == "ok":
        fut.set_result(answer[1])
        return
    fail(fut, answer if isinstance(answer, BaseException)
         else RunnerBodyError(answer[1], answer[2]))


def fail(fut: asyncio.Future, exc: BaseException) -> None:
    """Fail a run's future; marked as seen, since after a timeout nobody awaits it."""
    if not fut.done():
        fut.set_exception(exc)
        fut.exception()


class RunnerPool:
    """The warm runners of every function, owned by the supervisor (they die with it, as
    its tasks do, and the next supervisor starts new ones)."""

    def __init__(self) -> None:
        self._slots: dict[str, list[Slot]] = {}
        self._flushing: set[asyncio.Task] = set()  # the loop holds tasks weakly
        self._waiting: dict[str, collections.deque] = {}  # (future, deadline), oldest first
        self._checking: dict[str, asyncio.Task] = {}
        self._freed: dict[str, float] = {}  # function -> when a runner last freed a place
        self._node_id: str | None = None  # the supervisor's node: channels stay on it

    def _new(self, spec: FunctionSpec) -> Slot:
        opts = {"num_cpus": spec.cpus, "num_gpus": spec.gpus, "max_restarts": -1,
                "max_concurrency": 2 * spec.max_inputs + 8}  # batches and collects
        if spec.memory_mb:
            opts["memory"] = spec.memory_mb * 1024 * 1024
        if spec.node_labels:
            opts["label_selector"] = dict(spec.node_labels)
        handle = _RunnerActor.options(**opts).remote(
            spec.fn.__module__, spec.fn.__qualname__, spec.max_inputs)
        return Slot(handle, spec.name)

    def start(self, spec: FunctionSpec) -> list[Slot]:
        """The function's runners, started on its first invocation."""
        slots = self._slots.get(spec.name)
        if slots is None:
            slots = self._slots[spec.name] = [self._new(spec) for _ in range(spec.warm)]
        return slots

    def take(self, spec: FunctionSpec) -> Slot | None:
        """The least busy runner with room, or None (all full, or no runners)."""
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
                # None: no runner has finished a run yet (they are starting, a second or
                # two): wait for them rather than start a task each.
                freed = self._freed.get(name)
                keep: collections.deque = collections.deque()
                for fut, deadline, since in self._waiting.get(name, ()):
                    if fut.done():
                        continue
                    if deadline <= now or (freed is not None
                                           and mono - max(freed, since) >= SPILL_AFTER_S):
                        fut.set_result(None)
                    else:
                        keep.append((fut, deadline, since))
                self._waiting[name] = keep
        finally:
            self._checking.pop(name, None)

    def call(self, slot: Slot, spec: FunctionSpec, item: list) -> asyncio.Future:
        """Run `item` ([id, payload, caller, via, attempts before]) on `slot`: a future of
        the outcome. Calls made in one turn of the loop go to the runner as one batch. No
        Ray retries: an invocation whose runner died runs again as a task (the supervisor
        decides; Ray's retry would meet it restarting)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if slot.queued is None:
            slot.queued = []
            loop.call_soon(self._flush, slot, spec)
        slot.queued.append((item, fut))
        return fut

    def _flush(self, slot: Slot, spec: FunctionSpec) -> None:
        """Send this turn's batch: over the runner's channel when it is open, else as a
        Ray actor call (and open the channel for the next batches)."""
        batch, slot.queued = slot.queued or [], None
        items = [item for item, _ in batch]
        if slot.link is not None:
            answers = slot.link.send(items, BATCH_WAIT_S)
        else:
            if slot.method is None:
                slot.method = slot.handle.run_batch.options(name=f"fleet:{spec.name}")
            answers = slot.method.remote(items, BATCH_WAIT_S)
            if slot.linking is None and not slot.retired:
                slot.linking = self._background(self._open_link(slot))
        self._background(self._answers(slot, batch, answers))

    def _background(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)
        return task

    def _node(self) -> str:
        if self._node_id is None:
            self._node_id = ray.get_runtime_context().get_node_id()
        return self._node_id

    async def _open_link(self, slot: Slot) -> None:
        """Open `slot`'s channel if its runner shares this node. One that cannot be
        opened is tried again after LINK_RETRY_S (a runner restarting answers late)."""
        try:
            node, path = await slot.handle.channel.remote()
            if node != self._node():
                return  # another node: Ray's actor call it is, for this runner's life
            link = await Link.open(path, on_close=lambda _: self._unlink(slot))
            if slot.retired:
                link.close()
            else:
                slot.link = link
            return
        except Exception:
            log.debug("no channel to a runner of %s yet", slot.function, exc_info=True)
        await asyncio.sleep(LINK_RETRY_S)
        slot.linking = None

    @staticmethod
    def _unlink(slot: Slot) -> None:
        """The channel closed (the runner died, or was retired): back to Ray's actor call
        until it is open again (Ray restarts a runner that died)."""
        slot.link, slot.linking = None, None

    async def _answers(self, slot: Slot, batch: list, answers) -> None:
        try:
            out = await answers
        except Exception as exc:  # the runner died (RUNNER_LOST) or Ray failed the call
            for _, fut in batch:
                _settle(fut, exc)
            return
        slow = []
        for item, fut in batch:
            answer = out.get(item[0])
            if answer is None:
                slow.append((item[0], fut))
            else:
                _settle(fut, answer)
        await asyncio.gather(*[self._collect(slot, inv_id, fut) for inv_id, fut in slow])

    @staticmethod
    async def _collect(slot: Slot, inv_id: str, fut: asyncio.Future) -> None:
        try:
            answer = await slot.handle.collect.remote(inv_id)
        except Exception as exc:
            answer = exc
        _settle(fut, answer)

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
        if slot.link is not None:
            slot.link.close()
        try:
            ray.kill(slot.handle, no_restart=True)
        except Exception:  # already gone
            log.debug("runner already gone", exc_info=True)


__all__ = ["Runner", "RunnerBodyError", "RunnerPool", "Slot", "fail"]
