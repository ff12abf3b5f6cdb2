"""Asking the other instances of a named actor (routers, gateway supervisors).

Several instances serve one port, so whichever one a client reaches answers for all of
them (/metrics sums their counters, /healthz counts the ones serving) and passes on what
another instance owns (a cancel). Each asks its peers through Ray; a peer that is dead or
restarting must cost at most a timeout and never fail the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import ray

from fleet.cluster import NAMESPACE

PEER_TIMEOUT_S = 2.0


class Peers:
    """Handles of named actors, looked up once and again after a call to one fails (Ray
    restarts an actor under the same name, with a new handle)."""

    def __init__(self, names: Iterable[str], timeout_s: float = PEER_TIMEOUT_S) -> None:
        self.names = list(names)
        self.timeout_s = timeout_s
        self._handles: dict[str, object] = {}

    async def handle(self, name: str):
        """The actor called `name`, or None when there is none (not started, or gone)."""
        found = self._handles.get(name)
        if found is None:
            try:
                found = await asyncio.to_thread(ray.get_actor, name, NAMESPACE)
            except ValueError:
                return None
            self._handles[name] = found
        return found

    def forget(self, name: str) -> None:
        """Look `name` up again next time (a call to it failed)."""
        self._handles.pop(name, None)

    async def ask(self, method: str) -> list:
        """`method`'s answers from every peer that gives one within the timeout."""
        async def one(name: str):
            handle = await self.handle(name)
            if handle is None:
                raise LookupError(name)
            return await asyncio.wait_for(getattr(handle, method).remote(), self.timeout_s)

        answers = await asyncio.gather(*map(one, self.names), return_exceptions=True)
        out = []
        for name, answer in zip(self.names, answers, strict=True):
            if isinstance(answer, BaseException):
                self.forget(name)
            else:
                out.append(answer)
        return out
