"""The one invoke path. HTTP, CLI, jobs, schedules and Python all end in `Client.invoke`.

    validate -> record queued (idempotent) -> hand to the supervisor -> (wait) -> record

The synchronous variant blocks the calling thread (CLI, jobs, scripts); `ainvoke` is the
same path for the asyncio gateway: both run one flow, over a sync or an async transport
(fleet.runtime.transports).
"""

from __future__ import annotations

import getpass
import threading
from typing import Any

from fleet import messages
from fleet.cluster import NAMESPACE, connect, prepare_auth
from fleet.config import Settings, load_settings
from fleet.errors import Conflict, FieldProblem, InvalidInput, Unavailable
from fleet.names import MAX_IDEMPOTENCY_KEY, scoped_key
from fleet.registry import Registry, registry_for
from fleet.store import ENTRY_POINTS, Invocation, Status, Store, open_store

SUPERVISOR_NAME = "fleet-supervisor"


def supervisor_name(index: int) -> str:
    """Instance `index` of `gateway.instances`: 0 is the primary (the one `Client` hands
    work to, and the only one that competes for the store's sweep lease)."""
    return SUPERVISOR_NAME if index == 0 else f"{SUPERVISOR_NAME}-{index}"


def default_caller() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class Client:
    """Fleet's Python API over one installation (FLEET_HOME)."""

    def __init__(self, settings: Settings | None = None, *, local_supervisor=None) -> None:
        self.settings = settings or load_settings()
        prepare_auth(self.settings)
        self._supervisor = None
        # Set when this client runs inside the supervisor actor (the gateway does): its
        # async methods are then called directly instead of through a Ray actor call.
        self._local = local_supervisor
        self._lock = threading.Lock()
        self._store_url: str | None = None

    @property
    def store(self) -> Store:
        # the URL once: building it was 2% of the gateway's GIL under load
        if self._store_url is None:
            self._store_url = self.settings.resolved_store_url
        return open_store(self._store_url)

    @property
    def registry(self) -> Registry:
        return registry_for(self.settings)

    # -- the cluster side

    def supervisor(self):
        """The supervisor actor's handle. The Fleet server (started by `fleet up`) owns it,
        so the Ray job of every function task lives as long as the server does."""
        if self._supervisor is None:
            with self._lock:
                if self._supervisor is None:
                    connect(self.settings)
                    import ray

                    try:
                        self._supervisor = ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE)
                    except ValueError:
                        raise Unavailable(messages.RUNTIME_NOT_UP) from None
        return self._supervisor

    # -- the invoke path

    def _new_row(self, name: str, payload: Any, *, caller: str, via: str,
                 idempotency_key: str | None, ray_job_id: str | None = None,
                 own_key: str | None = None) -> dict:
        """Validate; the queued row to insert. `idempotency_key` is the caller's own (the
        same key from another caller is another invocation); `own_key` is one Fleet makes
        for itself (an approval's action, a schedule's slot), which no caller's key can
        match (fleet.names.scoped_key)."""
        from fleet.runtime.payloads import validate_payload

        if via not in ENTRY_POINTS:
            raise InvalidInput(messages.BAD_VIA.format(allowed=", ".join(ENTRY_POINTS), via=via),
                               [FieldProblem("via", "unknown entry point", "Use python.")])
        if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(messages.IDEMPOTENCY_KEY_TOO_LONG.format(max=MAX_IDEMPOTENCY_KEY),
                               [FieldProblem("Idempotency-Key", "too long",
                                             f"Use at most {MAX_IDEMPOTENCY_KEY} characters.")])
        spec = self.registry.get(name)
        data = validate_payload(spec, payload)
        key = (scoped_key(own_key, None) if own_key is not None
               else scoped_key(idempotency_key, caller))
        return self.store.invocations.new_row(
            function=spec.name, payload=data, caller=caller, via=via,
            timeout_s=spec.timeout_s, retries=spec.retries, idempotency_key=key,
            ray_job_id=ray_job_id, cpus=spec.cpus, gpus=spec.gpus)

    # Each operation is written once, as a flow of steps ("record", "run", ...) that a
    # transport (fleet.runtime.transports) carries out: `_drive` calls them, `_adrive`
    # awaits them. The sync and async methods below differ only in their driver.

    @staticmethod
    def _invoke_flow(row: dict, wait: bool, wait_s: float | None):
        """record queued (or find the earlier one) -> run or submit -> the invocation."""
        inv, created = yield ("record", row)
        if inv.done:
            return inv
        fresh = inv if created else None  # an earlier record may be stale
        if wait:
            out = yield ("run", inv, wait_s, fresh)
        else:
            out = yield ("submit", inv, fresh)
        return out if out is not None else (yield ("get", inv.id))

    @staticmethod
    def _cancel_flow(inv_id: str, caller: str):
        inv = yield ("get", inv_id)  # a prefix becomes the full id
        if inv.done:
            raise Conflict(messages.NOT_CANCELLABLE.format(id=inv_id, status=inv.status.value))
        yield ("cancel", inv.id, caller)
        return (yield ("get", inv.id))

    def _transport(self, asynchronous: bool):
        from fleet.runtime.transports import InSupervisor, RayAsync, RaySync

        if not asynchronous:
            return RaySync(self)
        return RayAsync(self) if self._local is None else InSupervisor(self, self._local)

    def invoke(self, name: str, payload: Any = None, *, caller: str | None = None,
               via: str = "python", idempotency_key: str | None = None, wait: bool = True,
               wait_s: float | None = None, ray_job_id: str | None = None,
               own_key: str | None = None) -> Invocation:
        """Invoke `name`. wait=True blocks until it ends (or wait_s passes).
        `idempotency_key`: the caller's; `own_key`: Fleet's own (see `_new_row`)."""
        row = self._new_row(name, payload, caller=caller or default_caller(), via=via,
                            idempotency_key=idempotency_key, ray_job_id=ray_job_id,
                            own_key=own_key)
        return _drive(self._invoke_flow(row, wait, wait_s), self._transport(False))

    async def ainvoke(self, name: str, payload: Any = None, *, caller: str, via: str,
                      idempotency_key: str | None = None, wait: bool = True,
                      wait_s: float | None = None) -> Invocation:
        """`invoke` for asyncio callers (the gateway). Store calls never run on the event
        loop: a write may wait for SQLite's lock, and the loop must not wait with it."""
        row = self._new_row(name, payload, caller=caller, via=via,
                            idempotency_key=idempotency_key)
        return await _adrive(self._invoke_flow(row, wait, wait_s), self._transport(True))

    def wait(self, inv_id: str, timeout_s: float | None = None) -> Invocation:
        import ray

        inv = self.store.invocations.get(inv_id)
        if not inv.done:
            ray.get(self.supervisor().wait.remote(inv.id, timeout_s))
            inv = self.store.invocations.get(inv.id)
        return inv

    def get(self, inv_id: str) -> Invocation:
        return self.store.invocations.get(inv_id)

    def list(self, **filters) -> list[Invocation]:
        return self.store.invocations.list(**filters)

    def cancel(self, inv_id: str, *, caller: str | None = None) -> Invocation:
        return _drive(self._cancel_flow(inv_id, caller or default_caller()),
                      self._transport(False))

    async def acancel(self, inv_id: str, *, caller: str) -> Invocation:
        return await _adrive(self._cancel_flow(inv_id, caller), self._transport(True))


def _drive(flow, transport):
    """Run a flow's steps with a sync transport; its return value."""
    try:
        step = next(flow)
        while True:
            name, *args = step
            step = flow.send(getattr(transport, name)(*args))
    except StopIteration as done:
        return done.value


async def _adrive(flow, transport):
    """Run a flow's steps with an async transport; its return value."""
    try:
        step = next(flow)
        while True:
            name, *args = step
            step = flow.send(await getattr(transport, name)(*args))
    except StopIteration as done:
        return done.value


_default: Client | None = None


def client() -> Client:
    global _default
    if _default is None:
        _default = Client()
    return _default


def invoke(name: str, payload: Any = None, *, caller: str | None = None, via: str = "python",
           idempotency_key: str | None = None, wait: bool = True) -> Invocation:
    """Invoke a Fleet function from Python (see Client.invoke)."""
    return client().invoke(name, payload, caller=caller, via=via,
                           idempotency_key=idempotency_key, wait=wait)


__all__ = ["Client", "Status", "client", "invoke"]
