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
    """The file is opened for each turn: flock belongs to an open file, so two writer
    threads of one process sharing one would both hold the turn at once, and a file kept
    per thread would outlive its thread (a test session makes hundreds). The open and
    close cost microseconds against a commit's hundreds."""

    def __init__(self, database: str) -> None:
        self._path = database + ".writers"

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # the GIL is released while it waits
            yield
        finally:
            os.close(fd)  # releases the turn


__all__ = ["WriterTurn"]
