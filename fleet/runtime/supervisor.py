"""The supervisor: long-lived Ray actors that own every running invocation.

Callers come and go (a CLI process exits right after `--async`), so the task that runs a
function must be owned by something that lives as long as the cluster. The supervisor
submits each invocation as a Ray task with the function's resources, enforces its timeout,
records worker deaths and cancels, and lets callers wait for the outcome.

`gateway.instances` of them (2 by default) each serve the HTTP gateway on one port
(SO_REUSEPORT), so a killed instance drops only the requests it held. Each runs what its
own gateway receives and is recorded as its owner; instance 0, the primary, also runs
what `Client` hands over (fleet.runtime.ownership).

The sweep (fleet.runtime.sweep) recovers what a restart or a lost instance left, and
the gateway half (fleet.runtime.gateway_host) serves HTTP from this actor's loop, and the
waiting half (fleet.runtime.waiting) gives callers the outcome.

A timeout counts from the moment of invocation, time spent waiting for resources included;
one that never started says so. A function that asks for more than any node has fails at
once (`fleet.runtime.placement`).

The gateway is served from this actor's event loop, so nothing here may block that loop:
every store call runs in a thread (a SQLite writer can wait seconds for the lock, and
HTTP requests, timeouts and hand-overs must not wait with it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import ray
from ray.exceptions import TaskCancelledError

from fleet import messages
from fleet.config import load_settings
from fleet.peers import Peers
from fleet.registry import registry_for
from fleet.runtime.api import supervisor_name
from fleet.runtime.gateway_host import GatewayHost
from fleet.runtime.ownership import actor_of, new_owner_id, runs_here
from fleet.runtime.placement import asked_resources, unschedulable
from fleet.runtime.prestart import prestart
from fleet.runtime.replicas import ReplicaSampler
from fleet.runtime.runner_channel import RunnerLost
from fleet.runtime.runners import RunnerBodyError, RunnerPool, Slot, fail
from fleet.runtime.sweep import Sweeping
from fleet.runtime.waiting import Waiting
from fleet.runtime.worker import run_invocation
from fleet.store import Invocation, Status, open_store
from fleet.store.invocations import InvocationRepo
from fleet.store.leases import Lease
from fleet.store.writer import GroupWriter

log = logging.getLogger("fleet.supervisor")
NODES_TTL_S = 10.0  # how long the cluster's node sizes are trusted
STORE_THREADS = 64  # store calls waiting for SQLite's lock each hold one

_remote_run = ray.remote(run_invocation)
# A warm runner's process died under an invocation (fleet.runtime.runners).
RUNNER_LOST = (ray.exceptions.ActorDiedError, ray.exceptions.ActorUnavailableError,
               RunnerLost)
async def _db(fn, *args, **kwargs):
    """Run a store call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


class Supervisor(Sweeping, GatewayHost, Waiting):
    def __init__(self, gateway_app=None, holder: str | None = None,
                 index: int = 0, count: int = 1) -> None:
        """`gateway_app`: the factory of the HTTP gateway this instance serves from its
        loop, `(settings, client, peers=...) -> ASGI app` (None: no gateway)."""
        # This instance's id (fleet.runtime.ownership): the owner of what it runs and the
        # holder of its leases. The same after Ray restarts this actor (it keeps its
        # constructor's arguments), so a restart takes its own work and leases back at once.
        self.name = supervisor_name(index)
        self.holder = holder or new_owner_id(self.name)
        self.primary = index == 0  # only the primary competes for the sweep's lease
        self.count = count  # instances serving the gateway on one port
        self.lease: Lease | None = None
        self.settings = load_settings()
        self.store = open_store(self.settings.resolved_store_url)
        self.replicas = ReplicaSampler(self.store)
        self._tasks: dict[str, asyncio.Task] = {}
        self._refs: dict[str, object] = {}  # a task's ObjectRef, or a runner's future
        self._done: dict[str, asyncio.Event] = {}
        self._sweeper: asyncio.Task | None = None
        self._recovered = False
        self._gateway_app = gateway_app
        self._remotes: dict[str, object] = {}  # function name -> Ray task with its options
        self._gateway = None  # uvicorn.Server, once started
        self._http_metrics = None  # its request counter (fleet.gateway.metrics)
        self._peers = Peers(supervisor_name(i) for i in range(count) if i != index)
        self._nodes: tuple[float, list[dict]] = (0.0, [])
        self._executor_set = False
        # The invoke path's writes (creates from the gateway, outcomes) go through one
        # writer that commits them in groups; see fleet.store.writer.
        self.writer = GroupWriter(self.store.engines, batchers={
            "insert": InvocationRepo.insert_batch, "finish": InvocationRepo.finish_batch})
        self._final: dict[str, Invocation] = {}  # outcomes recorded here, for run_local
        self._want_final: set[str] = set()
        self.runners = RunnerPool()  # warm functions' runner actors
        self._on_runner: dict[str, tuple[object, Slot]] = {}  # inv id -> (spec, its runner)
        self._cancelled: set[str] = set()  # cancelled before their run started

    def _ensure_executor(self) -> None:
        # asyncio's default pool has cpu+4 threads (6 here); 6 writers waiting for the lock
        # would stall every other store call behind them.
        if not self._executor_set:
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="fleet-store"))
            self._executor_set = True

    def _ensure_background(self) -> None:
        self._ensure_executor()
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.create_task(self._sweep_forever())
            self._prestarter = loop.create_task(prestart(self.settings, self.primary))

    async def ping(self) -> str:
        self._ensure_background()
        if not self._recovered:
            self._recovered = True
            await self._sweep(recovering=True)
        await self._ensure_gateway()
        return "ok"

    def _start(self, inv_id: str, inv: Invocation | None = None,
               max_retries: int | None = None) -> None:
        if inv_id in self._tasks:
            return
        self._done[inv_id] = asyncio.Event()
        self._tasks[inv_id] = asyncio.get_running_loop().create_task(
            self._watch(inv_id, inv, max_retries))

    def _remote_for(self, spec, max_retries: int | None = None):
        if max_retries is not None:  # a run resumed after a restart has fewer left
            return _remote_run.options(**{**spec.ray_options(), "max_retries": max_retries})
        remote = self._remotes.get(spec.name)
        if remote is None:
            remote = self._remotes[spec.name] = _remote_run.options(**spec.ray_options())
        return remote

    async def _finish(self, inv_id: str, status: Status, **kw) -> Invocation | None:
        """Record a terminal status through the group writer (compare-and-set)."""
        rec = await self.writer.arun(InvocationRepo.finish_op(inv_id, status, **kw))
        if rec is not None and inv_id in self._want_final:
            self._final[inv_id] = rec
        return rec

    async def _record_outcome(self, inv: Invocation, outcome: dict) -> None:
        """Commit a short run's outcome (batched with others) and keep the record for a
        waiting gateway request, built here rather than read back."""
        status = Status(outcome["status"])
        item = InvocationRepo.outcome_item(
            inv.id, status, result=outcome.get("result"), error_type=outcome.get("error_type"),
            error_message=outcome.get("error_message"),
            error_traceback=outcome.get("error_traceback"), attempts=outcome["attempt"],
            started_at=outcome["started_at"], finished_at=outcome["finished_at"])
        won = await self.writer.aitem("finish", item)
        if won and inv.id in self._want_final:
            started = inv.started_at or outcome["started_at"]
            self._final[inv.id] = dataclasses.replace(
                inv, status=status, result=outcome.get("result"),
                error_type=outcome.get("error_type"),
                error_message=outcome.get("error_message"),
                attempts=max(inv.attempts, outcome["attempt"]), started_at=started,
                finished_at=outcome["finished_at"],
                duration_s=outcome["finished_at"] - started)

    async def _node_sizes(self) -> list[dict]:
        at, nodes = self._nodes
        if time.monotonic() - at > NODES_TTL_S:
            try:
                found = await asyncio.to_thread(ray.nodes)
                nodes = [dict(n.get("Resources") or {}) for n in found if n.get("Alive")]
            except Exception:
                log.exception("could not list the cluster's nodes")
                nodes = []
            self._nodes = (time.monotonic(), nodes)
        return nodes

    async def _time_out(self, inv: Invocation, spec) -> None:
        """Record the timeout: "never started" if it is still queued, else "ran too long"."""
        never = await self._finish(inv.id, Status.TIMED_OUT,
                                   error_type="TimeoutError", only_from=(Status.QUEUED,),
                          error_message=messages.NEVER_STARTED.format(
                              timeout_s=inv.timeout_s,
                              asked=", ".join(f"{v:g} {k}" for k, v in
                                              asked_resources(spec).items()) or "nothing"))
        if not never:
            await self._finish(inv.id, Status.TIMED_OUT, error_type="TimeoutError",
                      error_message=messages.TIMED_OUT.format(timeout_s=inv.timeout_s))

    async def _watch(self, inv_id: str, inv: Invocation | None,
                     max_retries: int | None = None) -> None:
        # A record handed over saves a read, and only a freshly inserted one may be handed
        # over: a short run's worker checks nothing before running, so a stale record
        # (an idempotent repeat, a sweep that raced an ending) would run it twice.
        try:
            inv = inv or await _db(self.store.invocations.get, inv_id)
            if inv.done:
                return
            try:
                spec = registry_for(self.settings).get(inv.function)
            except Exception as exc:
                await self._finish(inv_id, Status.FAILED, error_type=type(exc).__name__,
                                   error_message=str(exc))
                return
            if self.settings.cluster.refuse_unschedulable:
                why = unschedulable(asked_resources(spec), await self._node_sizes())
                if why is not None:
                    await self._finish(inv_id, Status.FAILED, error_type="Unschedulable",
                                       error_message=why)
                    return
            deadline = inv.created_at + inv.timeout_s  # the timeout counts from the invocation
            if deadline <= time.time():  # e.g. queued across `fleet down && fleet up`
                await self._time_out(inv, spec)
                return
            base = inv.attempts
            left = inv.retries if max_retries is None else max_retries
            # A warm runner, waiting for a place if they are busy (a resumed run keeps the
            # task path).
            slot = None
            if max_retries is None:
                slot = await self.runners.acquire(spec, deadline)
                if slot is not None:
                    self._on_runner[inv_id] = (spec, slot)  # released in `finally`
            if inv_id in self._cancelled:  # while it waited: it never runs
                return
            if time.time() >= deadline:  # it waited all its time
                await self._time_out(inv, spec)
                return
            try:
                while True:
                    ref = self._dispatch(inv, spec, slot, base, left)
                    try:
                        outcome = await asyncio.wait_for(asyncio.shield(ref),
                                                         timeout=deadline - time.time())
                        break
                    except RUNNER_LOST:
                        if slot is None or left <= 0:
                            raise
                        # Its runner died mid-run (Ray restarts the runner; its own retry
                        # would meet it restarting): run again as a task, as after a
                        # worker death.
                        self._release_runner(inv_id)
                        slot, base, left = None, base + 1, left - 1
                if isinstance(outcome, dict):  # a short run: the worker wrote nothing
                    await self._record_outcome(inv, outcome)
            except asyncio.TimeoutError:
                self._stop(inv_id, self._refs[inv_id])
                await self._time_out(inv, spec)
            except TaskCancelledError:
                pass  # cancel() already recorded it
            except RunnerBodyError as exc:  # the same, on a warm runner
                await self._finish(inv_id, Status.FAILED, error_type=exc.type_name,
                                   error_message=str(exc).strip().splitlines()[-1][:500])
            except ray.exceptions.RayTaskError as exc:  # Fleet's task body itself failed
                cause = exc.cause if exc.cause is not None else exc
                await self._finish(inv_id, Status.FAILED, error_type=type(cause).__name__,
                                   error_message=str(cause).strip().splitlines()[-1][:500]
                                   if str(cause).strip() else type(cause).__name__)
            except Exception as exc:  # the worker process died on every attempt
                on = self._on_runner.get(inv_id)
                if on is not None and isinstance(exc, ray.exceptions.ActorDiedError):
                    self.runners.retire(*on)  # it will not come back: start another
                cause = str(exc).strip().splitlines()
                await self._finish(inv_id, Status.FAILED, error_type=type(exc).__name__,
                                   attempts=base + left + 1,
                                   error_message=messages.WORKER_DIED.format(
                                       attempts=base + left + 1, retries=inv.retries,
                                       cause=(cause[0] if cause else type(exc).__name__)[:300]))
        except Exception:
            log.exception("supervising %s failed", inv_id)
            try:
                await self._finish(inv_id, Status.FAILED, error_type="InternalError",
                                   error_message=messages.INTERNAL_ERROR.format(ref=inv_id))
            except Exception:  # the store is down: the next sweep adopts it
                log.exception("could not record %s as failed", inv_id)
        finally:
            self._release_runner(inv_id)
            self._cancelled.discard(inv_id)
            self._refs.pop(inv_id, None)
            self._tasks.pop(inv_id, None)
            event = self._done.pop(inv_id, None)
            if event is not None:
                event.set()

    def _dispatch(self, inv: Invocation, spec, slot: Slot | None, base: int,
                  left: int) -> ray.ObjectRef:
        """Start one run: on the warm runner `slot`, or as a Ray task that Ray re-runs
        `left` times if its worker dies. `base`: the attempts already made."""
        if slot is not None:  # the runner has the function loaded: it is not named
            ref = self.runners.call(slot, spec, [inv.id, inv.payload, inv.caller, inv.via,
                                                 base])
        else:
            ref = self._remote_for(spec, None if left == spec.retries else left).remote(
                inv.id, spec.fn.__module__, spec.fn.__qualname__, inv.payload, inv.caller,
                inv.via, base)
        self._refs[inv.id] = ref
        return ref

    def _release_runner(self, inv_id: str) -> None:
        on = self._on_runner.pop(inv_id, None)
        if on is not None:
            self.runners.release(on[1])

    async def submit(self, inv_id: str, inv: Invocation | None = None) -> None:
        """Start an invocation (idempotent: a second submit of the same id is a no-op).
        `inv`: the record just inserted, or None (then it is read from the store).

        A repeat (an idempotency key seen before, inv None) may name an invocation that
        another instance runs: that one is left to it, and `wait` watches the store."""
        self._ensure_background()
        if inv is None and inv_id not in self._tasks and not runs_here(
                (await _db(self.store.invocations.get, inv_id)).owner, self.holder,
                primary=self.primary):
            return
        self._start(inv_id, inv)

    async def cancel(self, inv_id: str, actor: str, forwarded: bool = False) -> bool:
        """Record the cancel first (so a racing finish loses), then stop the task. One
        that another instance runs is passed to it, since only its owner can stop it."""
        if not forwarded and inv_id not in self._tasks:
            name = actor_of((await _db(self.store.invocations.get, inv_id)).owner)
            peer = None if name == self.name else await self._peers.handle(name)
            if peer is not None:
                try:
                    return await peer.cancel.remote(inv_id, actor, True)
                except ray.exceptions.RayActorError:
                    self._peers.forget(name)  # gone, and its task with it: cancel here
        ok = await self._finish(inv_id, Status.CANCELLED, error_type="Cancelled",
                                error_message=messages.CANCELLED_BY.format(who=actor),
                                actor=actor)
        ref = self._refs.get(inv_id)
        if ok is not None and ref is not None:
            self._stop(inv_id, ref)
        elif ok is not None and inv_id in self._tasks:
            self._cancelled.add(inv_id)  # still waiting for a runner: it must not start
        return ok is not None

    def _stop(self, inv_id: str, ref) -> None:
        """Stop a run that timed out or was cancelled. A task's worker process is killed
        (force); a thread in a warm runner cannot be, so that runner is retired: replaced
        now, killed once its other invocations end (fleet.runtime.runners)."""
        on = self._on_runner.get(inv_id)
        if on is None:
            ray.cancel(ref, force=True)
            return
        fail(ref, TaskCancelledError())  # its waiter (a cancel) stops waiting
        self.runners.retire(*on)


SupervisorActor = ray.remote(Supervisor)
