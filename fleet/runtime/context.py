"""Who is running the current invocation: set by the worker, read by functions that record
a person on what they change (rollouts, deploys, approvals need a requester)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class InvocationContext:
    invocation_id: str
    caller: str
    via: str
    attempt: int = 1


_current: contextvars.ContextVar[InvocationContext | None] = contextvars.ContextVar(
    "fleet_invocation", default=None)


def current() -> InvocationContext | None:
    return _current.get()


def caller(default: str = "fleet") -> str:
    """The identity that invoked the running function, or `default` outside one."""
    ctx = _current.get()
    return ctx.caller if ctx else default


class Progress:
    """Report how far a long run has come; it shows in the invocation's record (`progress`)
    as it runs. Writes at most once per `every_s`, so a tight loop may call it freely.

        progress = Progress(total=rows)
        progress.update(done=n, rows_per_s=r)
    """

    def __init__(self, *, every_s: float = 1.0, **fixed) -> None:
        self._fixed, self._every, self._last = fixed, every_s, 0.0

    def update(self, *, force: bool = False, **fields) -> bool:
        import time

        ctx = _current.get()
        now = time.monotonic()
        if ctx is None or (not force and now - self._last < self._every):
            return False
        self._last = now
        from fleet.config import load_settings
        from fleet.store import open_store

        store = open_store(load_settings().resolved_store_url)
        # A run reporting progress is a long one: mark it running first if it is not yet.
        store.invocations.mark_running(ctx.invocation_id, attempt=ctx.attempt)
        return store.invocations.set_progress(ctx.invocation_id, {**self._fixed, **fields})


def bind(ctx: InvocationContext):
    return _current.set(ctx)


def unbind(token) -> None:
    _current.reset(token)
