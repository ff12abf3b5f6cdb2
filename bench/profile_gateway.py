"""Where one invocation's time goes: py-spy on the supervisor (which serves the gateway) and
on the function workers while wrk drives sync no-op invokes.

    python -m bench.profile_gateway [--concurrency 16] [--seconds 10] [--gil]
                                    [--function noop] [--route invoke|spawn]

--gil samples only the thread that holds the GIL: in a process bound by its GIL (the
supervisor) that is where its time goes; without it, time a thread spends in C with the GIL
released (sqlite3, sockets) counts as busy too.

Prints the heaviest frames of each process kind (inclusive share of samples, idle excluded)
and writes the collapsed stacks under bench/results/ for flame graphs.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import ROOT, TOKEN, start_fleet, stop_fleet

IDLE = ("select", "epoll", "_worker (concurrent", "wait (threading", "get (queue",
        "run_forever", "_run_once (asyncio", "sleep", "poll")
BUCKETS = {
    "HTTP + FastAPI (uvicorn, starlette, routing, JSON)": ("uvicorn", "starlette", "fastapi",
                                                           "h11", "httptools", "json"),
    "payload validation (pydantic)": ("validate_payload", "pydantic"),
    "store: SQL execution and commit": ("sqlalchemy", "sqlite3", "psycopg", "_begin_immediate"),
    "Ray: task submit, result, cancel": ("ray/remote_function", "_remote", "ray/_private",
                                         "_raylet", "ObjectRef"),
    "asyncio scheduling": ("asyncio",),
}


def _pids(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _record(pid: int, seconds: int, out: Path, gil: bool = False) -> None:
    subprocess.run([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid),
                    "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(out), "--nonblocking"]
                   + (["--gil"] if gil else []), capture_output=True, timeout=seconds + 60)


def summarize(path: Path, title: str) -> None:
    if not path.exists():
        print(f"{title}: no samples (py-spy needs ptrace: run as root or with SYS_PTRACE)")
        return
    busy: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if frames and any(i in frames[-1] for i in IDLE):
            continue
        busy.append((frames, int(n)))
    total = sum(n for _, n in busy) or 1
    print(f"\n{title}: {total} busy samples")
    shares = collections.Counter()
    for frames, n in busy:
        joined = ";".join(frames)
        for bucket, keys in BUCKETS.items():
            if any(k in joined for k in keys):
                shares[bucket] += n
    for bucket, n in shares.most_common():
        print(f"  {100 * n / total:5.1f}%  {bucket}")
    leaf = collections.Counter()
    for frames, n in busy:
        leaf[frames[-1]] += n
    print("  top leaf frames:")
    for frame, n in leaf.most_common(8):
        print(f"  {100 * n / total:5.1f}%  {frame[:110]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--gil", action="store_true",
                    help="sample only the thread holding the GIL (where one process's CPU "
                         "bound lies)")
    ap.add_argument("--function", default="noop")
    ap.add_argument("--route", default="invoke", choices=("invoke", "spawn"))
    args = ap.parse_args()
    from bench import wrk

    start_fleet(tag="-profile")
    from fleet.cluster import ClusterInfo
    from fleet.config import load_settings

    base = ClusterInfo.read(load_settings()).gateway_url
    url = f"{base}/v1/functions/{args.function}/{args.route}"
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    try:
        wrk.run("warm", url, args.concurrency, 3, token=TOKEN)
        load = threading.Thread(target=lambda: print(wrk.run(
            "fleet-gateway", url, args.concurrency, args.seconds + 4, token=TOKEN).row()))
        load.start()
        time.sleep(2)
        sup = _pids("ray::Supervisor")
        workers = (_pids("ray::Runner") + _pids("ray::IDLE") + _pids("ray::fleet:noop")
                   + _pids("ray::run_invocation"))
        jobs = [threading.Thread(target=_record, args=(sup[0], args.seconds,
                                                       out / "profile-supervisor.txt", args.gil))]
        if workers:
            jobs.append(threading.Thread(target=_record, args=(
                workers[0], args.seconds, out / "profile-worker.txt")))
        for j in jobs:
            j.start()
        for j in jobs:
            j.join()
        load.join()
    finally:
        stop_fleet()
    summarize(out / "profile-supervisor.txt", "supervisor + gateway (one process)")
    summarize(out / "profile-worker.txt", "a function worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
