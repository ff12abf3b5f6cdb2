"""A direct channel from the supervisor to a warm runner on the same node.

Why: at one caller a Ray actor call was most of a no-op invocation's time. bench/gateway's
trace (docs/architecture.md, "Fourth round") put 2.3 ms of a 3.6 ms invoke in the call to
the runner, where a bare Ray task from a driver takes 1.6-1.9 ms. A Unix socket between two
processes on one node costs a tenth of that. Ray's own compiled graphs take the same way
out (shared-memory channels beside the actor calls) for the same reason.

What travels: frames of a 4-byte length and JSON (no pickle: a frame can name no code).
A request is a batch of invocations of the runner's own function, which the runner loaded
when it started; the frame does not say which function, so nothing sent here can make a
runner import anything. The socket sits in a folder only this user can open (0700), in
Ray's session folder (which Fleet keeps short: fleet.ray_paths) or else the temp folder.

What it promises: the same answers as the runner's `run_batch` over Ray. The only new
failure is the connection closing under a batch (the runner's process died: Ray restarts
it, as for an actor call), raised as `RunnerLost`, which the supervisor treats as Ray's
ActorDiedError. Runners on another node, and any runner whose channel cannot be opened,
keep the Ray actor call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import struct
import tempfile
from collections.abc import Awaitable, Callable

log = logging.getLogger("fleet.runners")
HEADER = struct.Struct("!I")
MAX_FRAME = 256 * 1024 * 1024  # a batch of large payloads; anything bigger is a bug
SOCKET_NAME = "r"
# Batch handler: (items, wait_s) -> {invocation id: answer}
Handler = Callable[[list, float], Awaitable[dict]]


class RunnerLost(Exception):
    """The channel to a runner closed with invocations in flight: its process died."""


def _socket_folder() -> str:
    """A new 0700 folder for one runner's socket: in Ray's session folder when the path
    fits a socket's 107 bytes there, else in the temp folder."""
    base = None
    try:
        import ray

        session = ray._private.worker._global_node.get_session_dir_path()
        base = os.path.join(session, "sockets")
    except Exception:  # not in a Ray worker (tests), or Ray moved its internals
        log.debug("no Ray session folder; the runner's socket goes to the temp folder")
    if base is None or not os.path.isdir(base) or len(base.encode()) > 80:
        base = None
    return tempfile.mkdtemp(prefix="fleet-", dir=base)  # mkdtemp makes it 0700


async def _read_frame(reader: asyncio.StreamReader) -> object:
    size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
    if size > MAX_FRAME:
        raise ValueError(f"runner channel frame of {size} bytes (limit {MAX_FRAME})")
    return json.loads(await reader.readexactly(size))


def _frame(message: object) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


class ChannelServer:
    """The runner's end: answers each request frame with `handler`'s result."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self.path = ""

    async def start(self) -> str:
        self.path = os.path.join(_socket_folder(), SOCKET_NAME)
        self._server = await asyncio.start_unix_server(self._serve, path=self.path)
        os.chmod(self.path, 0o600)
        return self.path

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_frame(reader)
                task = asyncio.get_running_loop().create_task(self._answer(request, writer))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the supervisor went away
        except Exception:
            log.exception("runner channel: a bad frame; closing the connection")
        finally:
            writer.close()

    async def _answer(self, request: dict, writer: asyncio.StreamWriter) -> None:
        try:
            out = await self._handler(request["batch"], float(request["wait"]))
        except Exception as exc:  # Fleet's own code failed: the batch gets its error
            log.exception("runner channel: the batch failed")
            out = {item[0]: ("error", type(exc).__name__, str(exc) or type(exc).__name__)
                   for item in request["batch"]}
        try:
            frame = _frame({"id": request["id"], "out": out})
        except (TypeError, ValueError) as exc:  # not JSON: fleet.runtime.worker checks first
            log.exception("runner channel: an answer that is not JSON")
            frame = _frame({"id": request["id"], "out": {
                item[0]: ("error", "InvalidResult", f"the outcome is not JSON: {exc}")
                for item in request["batch"]}})
        if not writer.is_closing():
            writer.write(frame)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(os.path.dirname(self.path))


class Link:
    """The supervisor's end of one runner's channel. `send` returns a future of the
    batch's answers; every future in flight fails with RunnerLost if the channel closes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_close: Callable[[Link], None] | None = None) -> None:
        self._reader, self._writer = reader, writer
        self._pending: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()
        self._on_close = on_close
        self.closed = False
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, path: str, on_close: Callable[[Link], None] | None = None) -> Link:
        reader, writer = await asyncio.open_unix_connection(path, limit=2 ** 20)
        return cls(reader, writer, on_close)

    def send(self, batch: list, wait_s: float) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        if self.closed:
            fut.set_exception(RunnerLost("the runner's channel is closed"))
            return fut
        n = next(self._ids)
        self._pending[n] = fut
        self._writer.write(_frame({"id": n, "batch": batch, "wait": wait_s}))
        return fut

    async def _read(self) -> None:
        why = "the runner closed its channel"
        try:
            while True:
                reply = await _read_frame(self._reader)
                fut = self._pending.pop(reply["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(reply["out"])
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            why = f"the runner's channel closed ({type(exc).__name__})"
        except Exception as exc:
            log.exception("runner channel: a bad reply")
            why = f"a bad reply on the runner's channel ({type(exc).__name__})"
        finally:
            self._shut(why)

    def _shut(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._writer.close()
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(RunnerLost(why))
                fut.exception()  # seen: a timed-out run's future has no reader
        if self._on_close is not None:
            self._on_close(self)

    def close(self) -> None:
        self._task.cancel()
        self._shut("closed by the supervisor")


__all__ = ["ChannelServer", "Link", "RunnerLost"]
