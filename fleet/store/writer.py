"""One writer that commits the invocation path's transitions in groups.

bench/gateway at c=16 showed throughput falling as callers were added: every invocation made
three write transactions from three processes (gateway, worker, worker), and SQLite admits
one writer at a time, so writers spun on the lock. The supervisor now owns the hot path's
writes: each is an operation handed to this writer's thread, which takes every operation
waiting, runs them in one transaction and commits once. Under load a commit carries many
transitions; alone, an operation commits at once (no timer waits for company).

An operation is either a function of the open connection, or an item of a batched kind
(`submit_item`): the items of one kind in a group go to one executemany (bench/gateway's
profile showed SQLAlchemy's per-statement work, not SQLite, costing the most). If a group
fails, each of its operations is retried in a transaction of its own, so one bad operation
fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.exc import DBAPIError

from fleet.store.engine import Engines

log = logging.getLogger("fleet.store.writer")
Op = Callable[[Any], Any]
Batcher = Callable[[Any, list], list]  # (conn, items) -> one result per item
MAX_GROUP = 512


class _Async:
    """An asyncio caller's place in the queue: lighter than a concurrent Future wrapped for
    the loop (each made a Condition and a chained future; the profile counted a tenth of
    the supervisor's GIL there), and a group wakes each loop once, not once per item."""

    __slots__ = ("loop", "fut")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.fut = loop.create_future()


def _resolve(items: list) -> None:
    for fut, ok, value in items:
        if not fut.done():
            fut.set_result(value) if ok else fut.set_exception(value)


def _settle(outcomes: list) -> None:
    """Hand each waiter its (ok, value): thread futures at once, asyncio ones per loop in
    one call_soon_threadsafe."""
    by_loop: dict = {}
    for waiter, ok, value in outcomes:
        if isinstance(waiter, _Async):
            by_loop.setdefault(waiter.loop, []).append((waiter.fut, ok, value))
        elif not waiter.cancelled():
            waiter.set_result(value) if ok else waiter.set_exception(value)
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, items)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            log.debug("writer result for a closed loop dropped")


class GroupWriter:
    def __init__(self, engines: Engines, *, batchers: dict[str, Batcher] | None = None,
                 name: str = "fleet-writer") -> None:
        self._e = engines
        self._batchers = dict(batchers or {})
        self._q: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        self.commits = 0  # for bench/gateway: operations per commit = ops / commits
        self.ops = 0

    def submit(self, op: Op) -> Future:
        """Queue `op(conn)`; the future holds its return value once committed."""
        fut: Future = Future()
        self._q.put((op, fut))
        return fut

    def submit_item(self, kind: str, item: Any) -> Future:
        """Queue an item of a batched kind (see `batchers`)."""
        fut: Future = Future()
        self._q.put(((kind, item), fut))
        return fut

    async def aitem(self, kind: str, item: Any) -> Any:
        return await self._await((kind, item))

    def run(self, op: Op) -> Any:
        """Queue and wait (for threads)."""
        return self.submit(op).result()

    async def arun(self, op: Op) -> Any:
        """Queue and wait without blocking the event loop."""
        return await self._await(op)

    async def _await(self, op: Any) -> Any:
        waiter = _Async(asyncio.get_running_loop())
        self._q.put((op, waiter))
        return await waiter.fut

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            group = [item]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._q.put(None)
                    break
                group.append(nxt)
            self._commit(group)

    def _apply(self, conn, group: list[tuple[Any, Future]]) -> list:
        results: list = [None] * len(group)
        kinds: dict[str, list[int]] = {}
        for i, (op, _) in enumerate(group):
            if callable(op):
                results[i] = op(conn)
            else:
                kinds.setdefault(op[0], []).append(i)
        for kind, idx in kinds.items():
            out = self._batchers[kind](conn, [group[i][0][1] for i in idx])
            for i, r in zip(idx, out, strict=True):
                results[i] = r
        return results

    def _transaction(self, group: list) -> list:
        engine = self._e.batch or self._e.write
        try:
            with self._e.turn(), engine.begin() as conn:
                return self._apply(conn, group)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # A connection that died idle (a database restart): the pool has dropped it;
            # the same group once more on a fresh one.
            with engine.begin() as conn:
                return self._apply(conn, group)

    def _commit(self, group: list[tuple[Any, Future]]) -> None:
        try:
            results = self._transaction(group)
        except Exception as exc:
            if len(group) == 1:
                _settle([(group[0][1], False, exc)])
                return
            for one in group:  # isolate the operation that failed
                self._commit([one])
            return
        self.commits += 1
        self.ops += len(group)
        _settle([(waiter, True, result)
                 for (_, waiter), result in zip(group, results, strict=True)])


__all__ = ["GroupWriter"]
