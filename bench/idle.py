"""bench/idle: what an installation costs while nobody calls it, process by process.

    python -m bench.idle [--seconds 60] [--routers 2] [--apps]

The README's order leaves `make demo`'s Fleet up while `make test` runs, so whatever an
idle installation burns, every test pays for on a 2-core machine. This starts a Fleet
(without traffic), lets it settle, then reads each process's CPU time from /proc at the
start and end of the window and prints the share of one core each kind of process used.
`--routers` compares router counts; `--apps` adds the LLM and RAG apps the demo starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

from bench.common import quiet, start_fleet, stop_fleet, write_result

TICKS = os.sysconf("SC_CLK_TCK")


def _kind(pid: str) -> str | None:
    """A process's kind: Ray's title for its workers (ray::RouterActor), else the program."""
    try:
        raw = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return None
    first = raw[0].decode(errors="replace").strip()
    if not first:
        return None
    if first.startswith("ray::"):
        return first.split()[0].split(".")[0]
    name = os.path.basename(first.split()[0])
    if name.startswith("python"):
        rest = [a.decode(errors="replace") for a in raw[1:3] if a]
        name = f"python {' '.join(os.path.basename(a) for a in rest)}"
    return name[:60]


def _cpu() -> dict[str, tuple[str, int]]:
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = _kind(pid)
        if kind:
            out[pid] = (kind, int(fields[11]) + int(fields[12]))  # utime + stime
    return out


def measure(seconds: float) -> dict[str, float]:
    """Share of one core per kind of process over `seconds` (processes alive at both ends)."""
    before = _cpu()
    time.sleep(seconds)
    after = _cpu()
    by: dict[str, float] = defaultdict(float)
    for pid, (kind, ticks) in after.items():
        if pid in before and before[pid][0] == kind:
            by[kind] += (ticks - before[pid][1]) / TICKS / seconds
    return dict(sorted(by.items(), key=lambda kv: -kv[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--routers", type=int, default=None)
    ap.add_argument("--apps", action="store_true", help="also the LLM and RAG apps")
    args = ap.parse_args()
    start_fleet(routers=args.routers, apps=args.apps, tag="-idle")
    try:
        quiet(max_s=60)
        shares = measure(args.seconds)
    finally:
        stop_fleet()
    total = sum(shares.values())
    print(f"\nidle for {args.seconds:.0f} s: {total:.1%} of one core in all")
    for kind, share in shares.items():
        if share >= 0.002:
            print(f"  {share:6.1%}  {kind}")
    write_result(f"idle-routers-{args.routers or 'default'}{'-apps' if args.apps else ''}",
                 {"seconds": args.seconds, "routers": args.routers, "apps": args.apps,
                  "total": total, "by_process": shares})
    return 0


if __name__ == "__main__":
    sys.exit(main())
