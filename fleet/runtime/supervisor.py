"""The supervisor: one detached Ray actor that owns every running invocation.

Callers come and go (a CLI process exits right after `--async`), so the task that runs a
function must be owned by something that lives as long as the cluster. The supervisor
submits each invocation as a Ray task with the function's resources, enforces its timeout,
records worker deaths and cancels, and lets callers wait for the outcome.

On restart it sweeps the store: queued invocations are submitted, running ones it no longer
owns (their tasks died with the previous supervisor) are recorded as failed, never left
hanging. The sweep also runs periodically, so an invocation whose caller crashed between
recording it and handing it over still runs.
"""

from __future__ import annotations

import asyncio
import logging
import time

import ray
from ray.exceptions import TaskCancelledError

from fleet import messages
from fleet.config import load_settings
from fleet.registry import registry_for
from fleet.runtime.worker import run_invocation
from fleet.store import Invocation, Status, open_store

log = logging.getLogger("fleet.supervisor")
SWEEP_EVERY_S = 5.0
ORPHAN_AFTER_S = 10.0  # a queued invocation nobody handed over for this long gets submitted

_remote_run = ray.remote(run_invocation)


class Supervisor:
    def __init__(self, serve_gateway: bool = False) -> None:
        self.settings = load_settings()
        self.store = open_store(self.settings.resolved_store_url)
        self._tasks: dict[str, asyncio.Task] = {}
        self._refs: dict[str, ray.ObjectRef] = {}
        self._done: dict[str, asyncio.Event] = {}
        self._sweeper: asyncio.Task | None = None
        self._recovered = False
        self._serve_gateway = serve_gateway
        self._remotes: dict[str, object] = {}  # function name -> Ray task with its options
        self._gateway = None  # uvicorn.Server, once started

    async def _ensure_gateway(self) -> None:
        """Serve the HTTP gateway from this actor's event loop.

        An HTTP invocation then reaches the supervisor without a Ray hop: bench/gateway
        measured each hop at a few ms on a 2-core machine. Re-run after a restart (the
        scheduler pings every tick), so a crashed supervisor brings its gateway back."""
        if not self._serve_gateway or self._gateway is not None:
            return
        from fleet.asgi import serve_in_loop
        from fleet.gateway.app import create_app
        from fleet.runtime.api import Client

        app = create_app(self.settings, Client(self.settings, local_supervisor=self))
        gw = self.settings.gateway
        self._gateway = True  # claimed: concurrent pings must not start a second server
        try:
            self._gateway = await serve_in_loop(app, host=gw.host, port=gw.port)
        except BaseException:
            self._gateway = None
            raise

    def _ensure_background(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def ping(self) -> str:
        self._ensure_background()
        if not self._recovered:
            self._recover()
        await self._ensure_gateway()
        return "ok"

    def _recover(self) -> None:
        self._recovered = True
        for inv in self.store.invocations.active():
            if inv.id in self._tasks:
                continue
            if inv.status is Status.RUNNING:
                self.store.invocations.finish(inv.id, Status.FAILED, error_type="Interrupted",
                                              error_message=messages.LOST_ON_RESTART)
            else:
                self._start(inv.id)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                now = time.time()
                for inv in self.store.invocations.active():
                    if inv.id in self._tasks:
                        continue
                    if inv.status is Status.QUEUED and now - inv.created_at > ORPHAN_AFTER_S:
                        self._start(inv.id)
                    elif inv.status is Status.RUNNING:
                        self.store.invocations.finish(
                            inv.id, Status.FAILED, error_type="Interrupted",
                            error_message=messages.LOST_ON_RESTART)
            except Exception:  # keep sweeping; a store hiccup must not kill the loop
                log.exception("sweep failed")

    def _start(self, inv_id: str, inv: Invocation | None = None) -> None:
        if inv_id in self._tasks:
            return
        self._done[inv_id] = asyncio.Event()
        self._tasks[inv_id] = asyncio.get_running_loop().create_task(self._watch(inv_id, inv))

    def _remote_for(self, spec):
        remote = self._remotes.get(spec.name)
        if remote is None:
            remote = self._remotes[spec.name] = _remote_run.options(**spec.ray_options())
        return remote

    async def _watch(self, inv_id: str, inv: Invocation | None) -> None:
        # A record handed over by the caller saves a read; a stale one is harmless, since
        # the worker's compare-and-set refuses to run an invocation that already ended.
        inv = inv or self.store.invocations.get(inv_id)
        try:
            if inv.done:
                return
            try:
                spec = registry_for(self.settings).get(inv.function)
            except Exception as exc:
                self.store.invocations.finish(inv_id, Status.FAILED,
                                              error_type=type(exc).__name__,
                                              error_message=str(exc))
                return
            ref = self._remote_for(spec).remote(inv.id, spec.fn.__module__,
                                                spec.fn.__qualname__, inv.payload,
                                                inv.caller, inv.via)
            self._refs[inv_id] = ref
            try:
                await asyncio.wait_for(asyncio.shield(ref), timeout=inv.timeout_s)
            except asyncio.TimeoutError:
                ray.cancel(ref, force=True)
                self.store.invocations.finish(
                    inv_id, Status.TIMED_OUT, error_type="TimeoutError",
                    error_message=messages.TIMED_OUT.format(timeout_s=inv.timeout_s))
            except TaskCancelledError:
                pass  # cancel() already recorded it
            except ray.exceptions.RayTaskError as exc:  # Fleet's task body itself failed
                cause = exc.cause if exc.cause is not None else exc
                self.store.invocations.finish(
                    inv_id, Status.FAILED, error_type=type(cause).__name__,
                    error_message=str(cause).strip().splitlines()[-1][:500]
                    if str(cause).strip() else type(cause).__name__)
            except Exception as exc:  # the worker process died on every attempt
                cause = str(exc).strip().splitlines()
                self.store.invocations.finish(
                    inv_id, Status.FAILED, error_type=type(exc).__name__,
                    error_message=messages.WORKER_DIED.format(
                        attempts=inv.retries + 1, retries=inv.retries,
                        cause=(cause[0] if cause else type(exc).__name__)[:300]))
        except Exception:
            log.exception("supervising %s failed", inv_id)
            self.store.invocations.finish(inv_id, Status.FAILED, error_type="InternalError",
                                          error_message=messages.INTERNAL_ERROR.format(
                                              ref=inv_id))
        finally:
            self._refs.pop(inv_id, None)
            self._tasks.pop(inv_id, None)
            event = self._done.pop(inv_id, None)
            if event is not None:
                event.set()

    async def submit(self, inv_id: str, inv: Invocation | None = None) -> None:
        """Start an invocation (idempotent: a second submit of the same id is a no-op)."""
        self._ensure_background()
        self._start(inv_id, inv)

    async def wait(self, inv_id: str, timeout_s: float | None) -> bool:
        """Wait until the invocation ends or timeout_s passes; True when it ended."""
        event = self._done.get(inv_id)
        if event is None:
            return self.store.invocations.get(inv_id).done
        try:
            await asyncio.wait_for(event.wait(), timeout=timeout_s)
            return True
        except asyncio.TimeoutError:
            return False

    async def run(self, inv_id: str, timeout_s: float | None,
                  inv: Invocation | None = None) -> bool:
        """submit + wait in one actor call (the synchronous path: one hop less)."""
        await self.submit(inv_id, inv)
        return await self.wait(inv_id, timeout_s)

    async def cancel(self, inv_id: str, actor: str) -> bool:
        """Record the cancel first (so a racing finish loses), then stop the task."""
        ok = self.store.invocations.finish(
            inv_id, Status.CANCELLED, error_type="Cancelled",
            error_message=messages.CANCELLED_BY.format(who=actor), actor=actor)
        ref = self._refs.get(inv_id)
        if ok and ref is not None:
            ray.cancel(ref, force=True)
        return ok


SupervisorActor = ray.remote(Supervisor)
