"""bench/capacity: what each of Fleet's components costs alone, for docs/scaling.md.

    python -m bench.capacity [--seconds 6] [--stores sqlite,postgres]

Each measured by itself, on this machine, at 1, 16 and 64 concurrent callers where that
means anything:
  store        the invoke path's writes alone (no Ray, no HTTP): an invocation inserted and
               finished through the group writer the supervisor uses, from N threads;
               next to a bare one-row-per-transaction insert loop on the same store
  scheduler    one tick over 10, 100 and 1,000 schedules none of which is due (the steady
               state): milliseconds per tick, so how many schedules a 1 s tick can hold
  supervisor   sync no-op invocations from Python (Client.invoke: one Ray actor call, no
               HTTP) from N threads: invocations/s and the supervisor process' CPU per
               invocation (read from /proc)
  gateway      the same invocations over HTTP (wrk): req/s, p99, and the CPU of the same
               process (the gateway runs in the supervisor's event loop), so HTTP's share
               is the difference

Ratios (each component against the store's ceiling and against the bare loop) are what the
capacity model in docs/scaling.md uses. Results go to bench/results/capacity.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

from bench.common import TOKEN, each_store, quiet, start_fleet, stop_fleet, write_result

CONCURRENCY = (1, 16, 64)


def _cpu_s(pid: int) -> float:
    """User+system CPU seconds of process `pid` (and its threads), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads(n: int, seconds: float, call) -> tuple[int, list[float]]:
    """Run `call()` in a loop on n threads for `seconds`: (calls, latencies in ms)."""
    lat: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop() -> None:
        mine = []
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            call()
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=loop) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(lat), sorted(lat)


def _p(lat: list[float], q: float) -> float:
    return lat[min(len(lat) - 1, int(len(lat) * q))] if lat else float("nan")


def bench_store_alone(url: str, seconds: float) -> dict:
    """Invocations recorded and finished per second through the group writer."""
    from bench.gateway import bare_insert_rate
    from fleet.store import Status, open_store
    from fleet.store.invocations import InvocationRepo
    from fleet.store.writer import GroupWriter

    store = open_store(url)
    writer = GroupWriter(store.engines, batchers={
        "insert": InvocationRepo.insert_batch, "finish": InvocationRepo.finish_batch})

    def lifecycle() -> None:
        row = InvocationRepo.new_row(function="noop", payload={}, caller="bench",
                                     via="http", timeout_s=30, retries=0, cpus=0.05, gpus=0)
        writer.submit_item("insert", row).result()
        now = time.time()
        writer.submit_item("finish", InvocationRepo.outcome_item(
            row["id"], Status.SUCCEEDED, result={}, attempts=1, started_at=now,
            finished_at=now)).result()

    out: dict = {}
    for c in CONCURRENCY:
        n, lat = _threads(c, seconds, lifecycle)
        out[f"c{c}"] = {"invocations_per_s": round(n / seconds), "p99_ms": round(_p(lat, .99), 2)}
        print(f"  store alone       c={c:<3} {n / seconds:>8.0f} invocations/s "
              f"(insert + finish)  p99 {_p(lat, .99):.2f} ms", flush=True)
    writer.close()
    out["bare_inserts_per_s"] = round(bare_insert_rate(url, seconds=3.0))
    print(f"  bare insert loop        {out['bare_inserts_per_s']:>8} rows/s", flush=True)
    return out


def bench_scheduler(client, seconds: float) -> dict:
    """Milliseconds per tick with N schedules, none due (what every tick pays)."""
    from fleet.scheduler.core import SchedulerCore

    core = SchedulerCore(client)
    out: dict = {}
    have = 0
    for n in (10, 100, 1000):
        for i in range(have, n):
            client.store.schedules.add(name=f"cap-{i}", function="noop", spec="@every 1h",
                                       payload={}, actor="bench")
        have = n
        ticks = []
        deadline = time.perf_counter() + min(seconds, 3)
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            core.tick()
            ticks.append((time.perf_counter() - t) * 1000)
        out[f"{n}_schedules_ms_per_tick"] = round(statistics.median(ticks), 2)
        print(f"  scheduler         {n:>5} schedules: {statistics.median(ticks):.2f} ms/tick",
              flush=True)
    for i in range(have):
        client.store.schedules.remove(f"cap-{i}", actor="bench")
    return out


def bench_supervisor_and_gateway(client, gateway_url: str, seconds: int) -> dict:
    from ray.util.state import list_actors

    from bench import wrk
    from fleet.runtime.api import SUPERVISOR_NAME

    pid = next(a.pid for a in list_actors(filters=[("name", "=", SUPERVISOR_NAME),
                                                   ("state", "=", "ALIVE")]))
    out: dict = {}
    url = f"{gateway_url}/v1/functions/noop/invoke"
    wrk.run("warm-up", url, 64, 5, token=TOKEN)
    for c in CONCURRENCY:
        quiet()
        cpu0, t0 = _cpu_s(pid), time.perf_counter()
        n, lat = _threads(c, seconds, lambda: client.invoke("noop", {}))
        wall, cpu = time.perf_counter() - t0, _cpu_s(pid) - cpu0
        py = {"invocations_per_s": round(n / wall, 1), "p99_ms": round(_p(lat, .99), 2),
              "supervisor_cpu_ms_per_invocation": round(cpu / n * 1000, 2)}
        print(f"  supervisor (py)   c={c:<3} {n / wall:>8.1f} inv/s  p99 {_p(lat, .99):7.2f} ms"
              f"  supervisor CPU {cpu / n * 1000:.2f} ms/inv", flush=True)
        quiet()
        cpu0 = _cpu_s(pid)
        r = wrk.run("gateway", url, c, seconds, token=TOKEN)
        cpu = _cpu_s(pid) - cpu0
        done = max(1.0, r.rps * seconds)
        http = {"req_per_s": round(r.rps, 1), "p99_ms": round(r.p99_ms, 2),
                "errors": r.errors,
                "gateway_and_supervisor_cpu_ms_per_request": round(cpu / done * 1000, 2)}
        print(f"  gateway (HTTP)    c={c:<3} {r.rps:>8.1f} req/s  p99 {r.p99_ms:7.2f} ms"
              f"  same process CPU {cpu / done * 1000:.2f} ms/req", flush=True)
        out[f"c{c}"] = {"supervisor": py, "gateway": http}
    return out


def bench_one(label: str, url: str | None, seconds: int) -> dict:
    print(f"\n== {label}", flush=True)
    from fleet.config import load_settings

    out: dict = {}
    home = start_fleet(url, tag=f"-cap-{label}")
    try:
        from fleet.cluster import ClusterInfo, connect
        from fleet.runtime import Client

        settings = load_settings(home)
        connect(settings)
        client = Client(settings)
        out["store"] = bench_store_alone(settings.resolved_store_url, seconds)
        out["scheduler"] = bench_scheduler(client, seconds)
        out["invoke"] = bench_supervisor_and_gateway(
            client, ClusterInfo.read(settings).gateway_url, seconds)
    finally:
        stop_fleet()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--stores", default="sqlite,postgres")
    args = ap.parse_args()
    out: dict = {"cpus": os.cpu_count()}
    out.update(each_store(args.stores,
                          lambda label, url: bench_one(label, url, args.seconds)))
    print("\nwritten:", write_result("capacity", out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
