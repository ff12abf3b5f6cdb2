"""The client's invoke and cancel are written once (fleet.runtime.api: a flow of steps)
and driven sync or async over a transport (fleet.runtime.transports). Both drivers take
the same steps for each case a caller meets: a repeated Idempotency-Key whose invocation
has ended, a call that waits, a spawn, a cancel, and a cancel of one that has ended."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from fleet.errors import Conflict
from fleet.runtime.api import Client, _adrive, _drive


def record(inv_id="inv_1", done=False):
    status = SimpleNamespace(value="succeeded" if done else "queued")
    return SimpleNamespace(id=inv_id, done=done, status=status)


class Steps:
    """A transport that answers from a script and writes down each step it was asked."""

    def __init__(self, *, existing=None, final=None):
        self.calls: list[tuple] = []
        self.existing, self.final = existing, final

    def record(self, row):
        self.calls.append(("record", row["function"]))
        return (self.existing, False) if self.existing else (record(), True)

    def run(self, inv, wait_s, fresh):
        self.calls.append(("run", inv.id, wait_s, fresh is not None))
        return self.final

    def submit(self, inv, fresh):
        self.calls.append(("submit", inv.id, fresh is not None))

    def get(self, inv_id):
        self.calls.append(("get", inv_id))
        return self.existing or record(inv_id, done=True)

    def cancel(self, inv_id, caller):
        self.calls.append(("cancel", inv_id, caller))


class AsyncSteps(Steps):
    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name in ("record", "run", "submit", "get", "cancel"):
            async def later(*args):
                return attr(*args)
            return later
        return attr


CASES = {
    "a wait that the supervisor answers": (dict(final=record(done=True)), True,
                                           [("record", "hello"), ("run", "inv_1", 5.0, True)]),
    "a wait read back from the store": (dict(), True, [("record", "hello"),
                                                       ("run", "inv_1", 5.0, True),
                                                       ("get", "inv_1")]),
    "a spawn": (dict(), False, [("record", "hello"), ("submit", "inv_1", True),
                                ("get", "inv_1")]),
    "a repeated key whose invocation ended": (dict(existing=record("inv_0", done=True)), True,
                                              [("record", "hello")]),
    "a repeated key still running: not fresh": (dict(existing=record("inv_0")), False,
                                                [("record", "hello"),
                                                 ("submit", "inv_0", False),
                                                 ("get", "inv_0")]),
}


@pytest.mark.parametrize("case", CASES)
def test_invoke_takes_the_same_steps_sync_and_async(case):
    script, wait, expected = CASES[case]
    sync, asyn = Steps(**script), AsyncSteps(**script)
    row = {"function": "hello"}
    a = _drive(Client._invoke_flow(row, wait, 5.0), sync)
    b = asyncio.run(_adrive(Client._invoke_flow(row, wait, 5.0), asyn))
    assert sync.calls == expected
    assert asyn.calls == expected
    assert a.id == b.id


def test_cancel_takes_the_same_steps_and_refuses_an_ended_one_alike():
    sync, asyn = Steps(existing=record("inv_9")), AsyncSteps(existing=record("inv_9"))
    _drive(Client._cancel_flow("inv_9", "ann"), sync)
    asyncio.run(_adrive(Client._cancel_flow("inv_9", "ann"), asyn))
    assert sync.calls == asyn.calls == [("get", "inv_9"), ("cancel", "inv_9", "ann"),
                                        ("get", "inv_9")]
    ended = record("inv_8", done=True)
    with pytest.raises(Conflict, match="inv_8"):
        _drive(Client._cancel_flow("inv_8", "ann"), Steps(existing=ended))
    with pytest.raises(Conflict, match="inv_8"):
        asyncio.run(_adrive(Client._cancel_flow("inv_8", "ann"), AsyncSteps(existing=ended)))
