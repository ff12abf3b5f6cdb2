"""Whose turn it is to write: the group writers of every process on one SQLite file.

SQLite admits one writer at a time and has no way to wait for its lock: a writer that finds
it taken polls (fleet.store.engine._begin_immediate, sleeps of 0.2-4 ms). With two gateway
instances, each with its group writer, py-spy put a writer asleep in that poll for 27% of
spawn at c=64 while the lock was already free, and a fifth of the two cores idle. The group
writers now queue on an flock of a file beside the database first: the kernel wakes the next
one the moment the holder commits, and the poll is left for writers outside the hot path
(the CLI, the scheduler). PostgreSQL locks rows, not the database: no turn there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator


class WriterTurn:
    def __init__(self, database: str) -> None:
        self._path = database + ".writers"
        self._fd: int | None = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # the GIL is released while it waits
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def no_turn() -> Iterator[None]:
    yield


__all__ = ["WriterTurn", "no_turn"]
