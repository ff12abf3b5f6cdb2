"""Drive wrk (Debian's HTTP load generator) and parse its latency distribution."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Result:
    name: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def row(self) -> str:
        return (f"{self.name:<28} c={self.concurrency:<3} {self.rps:>9.1f} req/s  "
                f"p50 {self.p50_ms:>8.2f} ms  p99 {self.p99_ms:>8.2f} ms  errors {self.errors}")


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk latency '{text}'")
    return float(m.group(1)) * UNITS[m.group(2)]


def run(name: str, url: str, concurrency: int, seconds: int, *, body: str = "{}",
        token: str | None = None) -> Result:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    lines = ['wrk.method = "POST"', f"wrk.body = '{body}'",
             'wrk.headers["Content-Type"] = "application/json"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        script = f.name
    threads = 1 if concurrency == 1 else 2
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s",
                          "--latency", "--timeout", "10s", "-s", script, url],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors:.*?timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (int(sock.group(1)) if sock else 0)
    return Result(name, concurrency, rps, p50, p99, errors)
