"""The processes `fleet up` starts (Ray's head and worker nodes, the Fleet server): whether
one is alive, waiting for it to serve, reading what it said last, stopping it and its
group. Shared by fleet.lifecycle and fleet.worker_nodes, below both."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from fleet import messages
from fleet.errors import Unavailable


def alive(pid: int | None) -> bool:
    """Whether the process `pid` runs (a zombie, exited but not yet reaped, does not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child still answers kill(0)
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return state != "Z"
    except OSError:
        return True


def wait_until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `cond` until it holds; Unavailable naming `what` after `timeout_s`. `cond` may
    raise to stop early (a process that exited says why)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.25)
    raise Unavailable(messages.DID_NOT_COME_UP.format(what=what, timeout_s=timeout_s))


RAY_TIMEOUT_TEXT = "timed out during startup"


def log_tail(log: Path, size: int = 8192) -> str:
    """The last `size` bytes of a log ("" when it cannot be read): what a process that
    just exited said last."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - size))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def startup_timed_out(log: Path) -> bool:
    """Whether the last `ray start` in `log` failed on Ray's own startup timeout."""
    return RAY_TIMEOUT_TEXT in log_tail(log)


def terminate(pid: int | None, timeout_s: float) -> None:
    """SIGTERM the leader (Ray's --block drains and stops what it started), then make sure
    nothing of its process group is left."""
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


__all__ = ["RAY_TIMEOUT_TEXT", "alive", "log_tail", "startup_timed_out", "terminate",
           "wait_until"]
