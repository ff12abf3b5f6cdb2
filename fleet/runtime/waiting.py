"""Waiting for an invocation's outcome: the waiting half of
`fleet.runtime.supervisor.Supervisor` (which provides `store`, `submit`, `_done`, `_final`
and `_want_final`).

An invocation this instance runs is waited on through its event; one another instance
runs (or one that ended already) by reading the store, backing off to POLL_MAX_S.
"""

from __future__ import annotations

import asyncio
import time

from fleet.store import Invocation

POLL_MAX_S = 1.0  # a wait for another instance's invocation reads the store this often


class Waiting:
    async def wait(self, inv_id: str, timeout_s: float | None) -> bool:
        """Wait until the invocation ends or timeout_s passes; True when it ended."""
        event = self._done.get(inv_id)
        if event is None:  # ended already, or another instance runs it: watch the store
            return await self._poll_done(inv_id, timeout_s)
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

    async def run_local(self, inv_id: str, timeout_s: float | None,
                        inv: Invocation | None = None) -> Invocation | None:
        """`run` for the gateway in this process: the committed record when this
        supervisor recorded the outcome (no read back), else None (read the store)."""
        self._want_final.add(inv_id)
        try:
            await self.run(inv_id, timeout_s, inv)
            return self._final.pop(inv_id, None)
        finally:
            self._want_final.discard(inv_id)
            self._final.pop(inv_id, None)

    async def _poll_done(self, inv_id: str, timeout_s: float | None) -> bool:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        pause = 0.05
        while not (await asyncio.to_thread(self.store.invocations.get, inv_id)).done:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            left = POLL_MAX_S if deadline is None else deadline - time.monotonic()
            await asyncio.sleep(max(0.0, min(pause, left)))
            pause = min(pause * 2, POLL_MAX_S)
        return True
