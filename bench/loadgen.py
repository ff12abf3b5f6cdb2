"""Steady HTTP load for the kill-under-load tests and bench/instance_kill: bounded loops of
plain requests on 127.0.0.1. Half the callers open a new connection per request (keep-alive
off), half keep one connection open, so a test can tell the two apart when one dies."""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from urllib.parse import urlsplit

import httpx

CALLERS = 4  # of each kind: at most 2 x CALLERS requests are ever in flight


class Load:
    """`callers` loops per kind, each at most `limit` POSTs of `body` to `url`, until
    stopped; records (kind, start, end, ok) per request, ok meaning a 200."""

    def __init__(self, url: str, body: str, headers: dict[str, str] | None = None,
                 limit: int = 4000, callers: int = CALLERS) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.url, self.body, self.limit = url, body, limit
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.records: list[tuple[str, float, float, bool]] = []
        self.gone_at: float | None = None  # when a killed process's pid was gone
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=fn, daemon=True)
                        for fn in (self._fresh, self._kept) for _ in range(callers)]

    def _fresh(self) -> None:
        """A new connection per request, `Connection: close` (keep-alive off)."""
        for _ in range(self.limit):
            if self.stop.is_set():
                return
            t0 = time.time()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request("POST", self.path, self.body,
                             {**self.headers, "connection": "close"})
                ok = conn.getresponse().status == 200
            except OSError:
                ok = False
            finally:
                conn.close()
            self.records.append(("fresh", t0, time.time(), ok))

    def _kept(self) -> None:
        """One connection kept open (httpx reconnects after a failure)."""
        with httpx.Client(timeout=30) as c:
            for _ in range(self.limit):
                if self.stop.is_set():
                    return
                t0 = time.time()
                try:
                    ok = c.post(self.url, content=self.body,
                                headers=self.headers).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.records.append(("kept", t0, time.time(), ok))

    def failed_across(self, killed_at: float, grace_s: float = 0.2) -> tuple[list, list]:
        """The failed requests, and those that started once the killed process was gone:
        `grace_s` after the kill, or later if its pid lived longer (`gone_at`, set by
        kill_under_load; a loaded machine takes longer to tear a process down, and until
        then its socket still takes connections, which the kernel then resets)."""
        boundary = max(killed_at + grace_s, self.gone_at or 0.0)
        failed = [r for r in self.records if not r[3]]
        after = [r for r in self.records if r[1] > boundary]
        print(f"{len(self.records)} requests, {len(failed)} failed "
              f"({sum(1 for f in failed if f[0] == 'fresh')} without keep-alive), started "
              f"{[round(f[1] - killed_at, 3) for f in failed]} s from the kill; the process "
              f"was gone {boundary - killed_at:.3f} s after it; {len(after)} started after "
              "that", flush=True)
        return failed, after

    @staticmethod
    def by_kind(records: list) -> dict[str, int]:
        """How many of `records` each kind of caller made (fresh, kept)."""
        out = {"fresh": 0, "kept": 0}
        for rec in records:
            out[rec[0]] += 1
        return out

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)


def instances(class_name: str) -> dict[str, int]:
    """Live instances of a Fleet actor class ("Supervisor", "RouterActor"): name -> pid."""
    from ray.util.state import list_actors

    return {a.name: a.pid for a in list_actors(filters=[
        ("class_name", "=", class_name), ("state", "=", "ALIVE")])}


def kill_under_load(pid: int, url: str, body: str, headers: dict[str, str] | None = None,
                    callers: int = CALLERS) -> tuple[Load, float]:
    """SIGKILL `pid` 2 s into steady load, keep the load on 4 s more; the load and when
    the kill was sent."""
    with Load(url, body, headers, callers=callers) as load:
        time.sleep(2)
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        while time.time() < killed_at + 4:
            if not os.path.exists(f"/proc/{pid}"):  # reaped: every thread has exited,
                load.gone_at = time.time()  # so its sockets are closed
                break
            time.sleep(0.005)
        time.sleep(max(0.0, killed_at + 4 - time.time()))
    return load, killed_at
