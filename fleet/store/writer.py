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

from fleet.store.engine import Engines

log = logging.getLogger("fleet.store.writer")
Op = Callable[[Any], Any]
Batcher = Callable[[Any, list], list]  # (conn, items) -> one result per item
MAX_GROUP = 512


class GroupWriter:
    def __init__(self, engines: Engines, *, batchers: dict[str, Batcher] | None = None,
                 name: str = "fleet-writer") -> None:
        self._e = engines
        self._batchers = dict(batchers or {})
        self._q: queue.SimpleQueue[tuple[Any, Future] | None] = queue.SimpleQueue()
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
        return await asyncio.wrap_future(self.submit_item(kind, item))

    def run(self, op: Op) -> Any:
        """Queue and wait (for threads)."""
        return self.submit(op).result()

    async def arun(self, op: Op) -> Any:
        """Queue and wait without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(op))

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

    def _commit(self, group: list[tuple[Any, Future]]) -> None:
        try:
            with self._e.write.begin() as conn:
                results = self._apply(conn, group)
        except Exception as exc:
            if len(group) == 1:
                if not group[0][1].cancelled():
                    group[0][1].set_exception(exc)
                return
            for one in group:  # isolate the operation that failed
                self._commit([one])
            return
        self.commits += 1
        self.ops += len(group)
        for (_, fut), result in zip(group, results, strict=True):
            if not fut.cancelled():
                fut.set_result(result)


__all__ = ["GroupWriter"]
