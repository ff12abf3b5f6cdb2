"""A server a test starts in its own process (Chroma, Prometheus, SeaweedFS): launched with
its output in a log file, ready when its probe answers, stopped with terminate, then kill.
A server that exits or never answers fails the test with the tail of its log."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx


class ServerProcess:
    def __init__(self, name: str, log: Path) -> None:
        self.name, self.log = name, log
        self.proc: subprocess.Popen | None = None

    def launch(self, argv: list[str], ready: Callable[[], bool], timeout_s: float = 60,
               every_s: float = 0.2) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(argv, stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(every_s)
        raise RuntimeError(f"{self.name} did not come up: {self.log.read_text()[-2000:]}")

    def stop(self, wait_s: float = 10) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
