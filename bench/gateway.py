"""bench/gateway: what Fleet's invoke path costs, against baselines measured in the same run.

    make bench            (or: python -m bench.gateway [--seconds 8] [--stores sqlite,postgres]
                                                   [--gateways N])

`--gateways`: how many gateway instances share the port (default: the config's, 2); the
results then go to gateway-gN.json.

For each store (SQLite, then PostgreSQL started here on 127.0.0.1), with wrk for HTTP:
  floor          a bare uvicorn endpoint (HTTP parsing only)
  serve-noop     a plain Ray Serve deployment behind Serve's HTTP proxy
  fleet-gateway  a sync no-op invoke through Fleet's gateway as `fleet up` runs it
  ray-task       a direct Ray task from a driver (no HTTP, no record)
at concurrency 1, 16 and 64; then async spawn at c=16, counted as invocation records
committed in the store per second, next to a bare insert loop on the same kind of store.

Goals (issue 8): fleet-gateway >= 0.67x serve-noop req/s and p99 <= 2x its p99 at every
concurrency, never below its own c=1 throughput. Goals (issue 28): at c=1 fleet-gateway
>= 0.8x the ray-task's req/s, with the record still committed before the reply; spawn at
c=64 >= 3,000 committed records/s on SQLite and >= 1,000 on PostgreSQL. The issue's
"before" figures (at 0df8a6b) are printed beside this run's.
Results go to bench/results/gateway.json.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import (
    ROOT,
    TOKEN,
    each_store,
    free_port,
    quiet,
    start_fleet,
    stop_fleet,
    write_result,
)

CONCURRENCY = (1, 16, 64)
SPAWN_CONCURRENCY = (16, 64)
# Issue 28's "before", bench/gateway at 0df8a6b on this machine (SQLite; spawn at c=16:
# that bench measured no spawn at c=64).
BEFORE = {"c1_gateway_rps": 199.6, "c1_ray_task_rps": 463.0, "spawn_c16_records_per_s": 932}
SPAWN_GOAL = {"sqlite": 3000, "postgres": 1000}


def ray_task_loop(concurrency: int, seconds: float):
    import ray

    from bench.wrk import Result

    @ray.remote(num_cpus=0.05)
    def noop():
        return {"ok": True}

    ray.get([noop.remote() for _ in range(20)])  # warm the workers
    lat: list[float] = []
    deadline = time.perf_counter() + seconds
    inflight: dict = {}
    while time.perf_counter() < deadline or inflight:
        while len(inflight) < concurrency and time.perf_counter() < deadline:
            inflight[noop.remote()] = time.perf_counter()
        done, _ = ray.wait(list(inflight), num_returns=1)
        for ref in done:
            ray.get(ref)
            lat.append((time.perf_counter() - inflight.pop(ref)) * 1000)
    lat.sort()
    return Result("ray-task (no HTTP)", concurrency, len(lat) / seconds,
                  statistics.median(lat), lat[int(len(lat) * 0.99) - 1], 0)


def bare_insert_rate(store_url: str, seconds: float = 3.0) -> float:
    """Rows/s of a bare loop that inserts one invocation-sized row per transaction."""
    payload = '{"x": 1}'
    deadline = time.perf_counter() + seconds
    n = 0
    if store_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(dir=ROOT / ".tmp") as d:
            conn = sqlite3.connect(os.path.join(d, "bare.db"), isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, status TEXT, payload TEXT, "
                         "created_at REAL)")
            while time.perf_counter() < deadline:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO t VALUES (?, 'queued', ?, ?)",
                              (f"inv_{n:032d}", payload, time.time()))
                conn.execute("COMMIT")
                n += 1
            conn.close()
    else:
        import psycopg

        url = store_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bare_t (id TEXT PRIMARY KEY, "
                         "status TEXT, payload TEXT, created_at DOUBLE PRECISION)")
            while time.perf_counter() < deadline:
                conn.execute("INSERT INTO bare_t VALUES (%s, 'queued', %s, %s)",
                             (f"inv_{n:032d}", payload, time.time()))
                n += 1
            conn.execute("DROP TABLE bare_t")
    return n / seconds


def spawn_rate(wrk, url: str, seconds: int, concurrency: int) -> tuple[float, object]:
    """Committed records/s of async spawns: counted in the store, not from wrk's replies."""
    from fleet.config import load_settings
    from fleet.store import open_store

    store = open_store(load_settings().resolved_store_url)
    t0 = time.time()
    r = wrk.run("fleet-spawn", url, concurrency, seconds, token=TOKEN)
    t1 = time.time()
    from sqlalchemy import func, select

    from fleet.store.schema import invocations as T

    with store.engines.read.connect() as conn:
        n = conn.execute(select(func.count()).where(
            T.c.function == "noop", T.c.via == "http", T.c.created_at.between(t0, t1))).scalar()
    return n / (t1 - t0), r


def bench_store(label: str, store_url: str | None, seconds: int,
                gateways: int | None = None) -> dict:
    from bench import wrk

    print(f"\n== store: {label}", flush=True)
    start_fleet(store_url, tag=f"-{label}", gateways=gateways)
    from fleet.cluster import ClusterInfo, connect
    from fleet.config import load_settings

    settings = load_settings()
    info = ClusterInfo.read(settings)
    connect(settings)
    floor_port = free_port()
    serve_port = settings.serving.serve_port  # Fleet's Serve, started by `fleet up`
    floor = subprocess.Popen([sys.executable, "-m", "bench.floor_app", str(floor_port)],
                             cwd=ROOT)
    from ray import serve

    @serve.deployment(max_ongoing_requests=100, ray_actor_options={"num_cpus": 0.1})
    class Noop:
        async def __call__(self, request):
            return {"ok": True}

    serve.run(Noop.bind(), name="bench-noop", route_prefix="/noop")
    time.sleep(2)
    targets = [
        ("floor (bare uvicorn)", f"http://127.0.0.1:{floor_port}/", None),
        ("serve-noop", f"http://127.0.0.1:{serve_port}/noop", None),
        ("fleet-gateway", f"{info.gateway_url}/v1/functions/noop/invoke", TOKEN),
    ]
    results = []
    try:
        # Steady state: Ray grows its worker pool under load (at most one start per CPU at
        # a time); measure after it has, as a user's service runs.
        wrk.run("warm-up", targets[2][1], 64, 10, token=TOKEN)
        for c in CONCURRENCY:
            for name, url, token in targets:
                quiet()
                wrk.run(name, url, c, 2, token=token)  # warm-up
                r = wrk.run(name, url, c, seconds, token=token)
                print(r.row(), flush=True)
                results.append(r)
            quiet()
            r = ray_task_loop(c, seconds)
            print(r.row(), flush=True)
            results.append(r)
        spawn_url = f"{info.gateway_url}/v1/functions/noop/spawn"
        rates = {}
        for c in SPAWN_CONCURRENCY:
            quiet()
            wrk.run("fleet-spawn", spawn_url, c, 2, token=TOKEN)  # warm-up, as the others get
            quiet()
            rates[c], spawn = spawn_rate(wrk, spawn_url, seconds, c)
            print(spawn.row(), f"-> {rates[c]:.0f} committed records/s", flush=True)
        bare = bare_insert_rate(settings.resolved_store_url)
        print(f"bare insert loop ({label}): {bare:.0f} rows/s", flush=True)
    finally:
        floor.terminate()
        stop_fleet()

    by = {(r.name, r.concurrency): r for r in results}
    rate = rates[16]
    summary: dict = {"spawn_records_per_s": round(rate, 1), "bare_inserts_per_s": round(bare),
                     "spawn_vs_bare": round(rate / bare, 3),
                     "spawn_c64_records_per_s": round(rates[64], 1)}
    print(f"\nratios ({label}, same run):")
    c1 = by[("fleet-gateway", 1)].rps
    task1 = by[("ray-task (no HTTP)", 1)].rps
    summary["c1_gateway_vs_ray_task"] = round(c1 / task1, 2)
    for c in CONCURRENCY:
        gw, sv = by[("fleet-gateway", c)], by[("serve-noop", c)]
        summary[f"c{c}"] = {
            "gateway_rps": round(gw.rps, 1), "serve_rps": round(sv.rps, 1),
            "gateway_vs_serve_rps": round(gw.rps / sv.rps, 2),
            "gateway_p99_vs_serve_p99": round(gw.p99_ms / sv.p99_ms, 2),
            "gateway_vs_own_c1_rps": round(gw.rps / c1, 2),
            "gateway_minus_serve_p50_ms": round(gw.p50_ms - sv.p50_ms, 2),
        }
        print(f"  c={c:<3} fleet-gateway / serve-noop req/s = {gw.rps / sv.rps:.2f}x "
              f"(goal >= 0.67x); p99 {gw.p99_ms / sv.p99_ms:.2f}x serve's (goal <= 2x); "
              f"{gw.rps / c1:.2f}x its own c=1 (goal >= 1)")
    print(f"  spawn c=16: {rate:.0f} committed records/s (goal >= 1,000) = "
          f"{rate / bare:.2f}x a bare insert loop ({bare:.0f}/s)")
    goal = SPAWN_GOAL.get(label, 1000)
    print(f"issue 28 ({label}):\n"
          f"  c=1: fleet-gateway {c1:.1f} req/s = {c1 / task1:.2f}x the ray-task's "
          f"{task1:.1f} (goal >= 0.8x; before, SQLite: {BEFORE['c1_gateway_rps']} vs "
          f"{BEFORE['c1_ray_task_rps']} = "
          f"{BEFORE['c1_gateway_rps'] / BEFORE['c1_ray_task_rps']:.2f}x)\n"
          f"  spawn c=64: {rates[64]:.0f} committed records/s (goal >= {goal:,}); c=16: "
          f"{rate:.0f} (before, SQLite c=16: {BEFORE['spawn_c16_records_per_s']})")
    return {"results": [r.__dict__ for r in results], "summary": summary}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--gateways", type=int, default=None,
                    help="gateway instances on the port (default: the config's, 2)")
    args = ap.parse_args()
    out = each_store(args.stores, lambda label, url: bench_store(label, url, args.seconds,
                                                                 args.gateways))
    write_result("gateway" + (f"-g{args.gateways}" if args.gateways else ""), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
