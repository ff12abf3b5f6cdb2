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


_current: contextvars.ContextVar[InvocationContext | None] = contextvars.ContextVar(
    "fleet_invocation", default=None)


def current() -> InvocationContext | None:
    return _current.get()


def caller(default: str = "fleet") -> str:
    """The identity that invoked the running function, or `default` outside one."""
    ctx = _current.get()
    return ctx.caller if ctx else default


def bind(ctx: InvocationContext):
    return _current.set(ctx)


def unbind(token) -> None:
    _current.reset(token)
