"""The supervisor's direct channel to a warm runner (fleet.runtime.runner_channel): each batch
gets its own answer whatever the order they finish in, a runner that dies fails what it
held with RunnerLost (which the supervisor re-runs as a task), and nobody else on the
machine can open the socket."""

import asyncio
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.runtime.runner_channel import ChannelServer, Link, RunnerLost

ROOT = Path(__file__).resolve().parents[2]


async def _answer_after_payload_seconds(items: list, wait_s: float) -> dict:
    """A stand-in for Runner.run_batch: each item naps its payload's seconds."""
    await asyncio.sleep(max(item[1]["s"] for item in items))
    return {item[0]: ["ok", {"status": "succeeded", "result": item[1]}] for item in items}


def test_batches_answered_out_of_order_each_get_their_own_answer():
    async def main():
        server = ChannelServer(_answer_after_payload_seconds)
        await server.start()
        link = await Link.open(server.path)
        slow = link.send([["inv_slow", {"s": 0.3}, "ann", "http", 0]], 0.05)
        fast = link.send([["inv_a", {"s": 0.0}, "bob", "http", 0],
                          ["inv_b", {"s": 0.0}, "bob", "http", 0]], 0.05)
        first = await fast
        assert not slow.done()  # the fast batch did not wait behind the slow one
        assert set(first) == {"inv_a", "inv_b"}
        assert (await slow)["inv_slow"][1]["result"] == {"s": 0.3}
        link.close()
        server.close()

    asyncio.run(main())


RUNNER = """
import asyncio, sys
from tests.unit.test_runner_channel import _answer_after_payload_seconds
from fleet.runtime.runner_channel import ChannelServer

async def main():
    server = ChannelServer(_answer_after_payload_seconds)
    print(await server.start(), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_runner_that_dies_fails_what_it_held_with_runner_lost():
    """A real process on the other end, killed as an OOM kill would."""
    proc = subprocess.Popen([sys.executable, "-c", RUNNER], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    path = proc.stdout.readline().strip()
    try:

        async def main():
            closed = []
            link = await Link.open(path, on_close=closed.append)
            done = await link.send([["inv_0", {"s": 0}, "ann", "http", 0]], 0.05)
            assert done["inv_0"][0] == "ok"
            held = link.send([["inv_1", {"s": 30}, "ann", "http", 0]], 0.05)
            await asyncio.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            with pytest.raises(RunnerLost):
                await asyncio.wait_for(held, 10)
            assert closed == [link] and link.closed
            with pytest.raises(RunnerLost):  # and nothing more goes to it
                await link.send([["inv_2", {"s": 0}, "ann", "http", 0]], 0.05)

        asyncio.run(main())
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def test_only_this_user_can_open_the_socket():
    async def main():
        server = ChannelServer(_answer_after_payload_seconds)
        await server.start()
        try:
            folder = os.path.dirname(server.path)
            assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
            assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600
            assert len(server.path.encode()) <= 107  # a Unix socket's path limit
        finally:
            server.close()
        assert not os.path.exists(folder)  # closing leaves nothing behind

    asyncio.run(main())


def test_a_frame_that_is_not_json_closes_its_connection_and_runs_nothing():
    calls = []

    async def record(items, wait_s):
        calls.append(items)
        return {}

    async def main():
        server = ChannelServer(record)
        await server.start()
        reader, writer = await asyncio.open_unix_connection(server.path)
        body = b"\x80\x04\x95 not json, e.g. a pickle"
        writer.write(struct.pack("!I", len(body)) + body)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, no answer
        link = await Link.open(server.path)  # and the runner still serves others
        assert await asyncio.wait_for(link.send([["inv_x", {}, "ann", "http", 0]], 0.05),
                                      5) == {}
        link.close()
        server.close()

    asyncio.run(main())
    assert calls == [[["inv_x", {}, "ann", "http", 0]]]
