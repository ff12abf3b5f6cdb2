"""bench/gateway: what Fleet's gateway costs, against baselines measured in the same run.

    make bench            (or: python -m bench.gateway [--seconds 8])

Targets, each a no-op, at concurrency 1 and 16 (wrk for HTTP):
  floor          a bare uvicorn endpoint (HTTP parsing only)
  serve-noop     a plain Ray Serve deployment behind Serve's HTTP proxy
  ray-task       a direct Ray task from a driver (no HTTP)
  fleet-gateway  Fleet's gateway as `fleet up` runs it (inside the supervisor actor)
  fleet-serve    the same gateway app as a Ray Serve ingress (serve_apps.gateway)

Goal: fleet-gateway >= 0.67x serve-noop req/s, and p50 <= serve-noop p50 + 2 ms at c=1.
Results go to bench/results/gateway.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, TOKEN, free_port, start_fleet, stop_fleet, write_result


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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    args = ap.parse_args()
    from bench import wrk

    print("starting Fleet, the floor server and Serve apps", flush=True)
    start_fleet()
    from fleet.cluster import ClusterInfo
    from fleet.config import load_settings

    info = ClusterInfo.read(load_settings())
    floor_port = free_port()
    serve_port = load_settings().serving.serve_port  # Fleet's Serve, started by `fleet up`
    floor = subprocess.Popen([sys.executable, "-m", "bench.floor_app", str(floor_port)],
                             cwd=ROOT)
    from ray import serve

    @serve.deployment(max_ongoing_requests=100, ray_actor_options={"num_cpus": 0.1})
    class Noop:
        async def __call__(self, request):
            return {"ok": True}

    serve.run(Noop.bind(), name="bench-noop", route_prefix="/noop")
    from serve_apps.gateway import app as gateway_app

    serve.run(gateway_app, name="fleet-gateway", route_prefix="/gw")
    time.sleep(2)
    targets = [
        ("floor (bare uvicorn)", f"http://127.0.0.1:{floor_port}/", None),
        ("serve-noop", f"http://127.0.0.1:{serve_port}/noop", None),
        ("fleet-gateway (default)", f"{info.gateway_url}/v1/functions/noop/invoke", TOKEN),
        ("fleet-serve (Serve ingress)",
         f"http://127.0.0.1:{serve_port}/gw/v1/functions/noop/invoke", TOKEN),
    ]
    results = []
    try:
        for c in (1, 16):
            for name, url, token in targets:
                wrk.run(name, url, c, 2, token=token)  # warm-up
                r = wrk.run(name, url, c, args.seconds, token=token)
                print(r.row(), flush=True)
                results.append(r)
            r = ray_task_loop(c, args.seconds)
            print(r.row(), flush=True)
            results.append(r)
    finally:
        floor.terminate()
        stop_fleet()

    by = {(r.name, r.concurrency): r for r in results}
    summary = {}
    print("\nratios (same run):")
    for c in (1, 16):
        gw, sv = by[("fleet-gateway (default)", c)], by[("serve-noop", c)]
        gs = by[("fleet-serve (Serve ingress)", c)]
        summary[f"c{c}"] = {
            "gateway_vs_serve_rps": round(gw.rps / sv.rps, 2),
            "gateway_minus_serve_p50_ms": round(gw.p50_ms - sv.p50_ms, 2),
            "serve_ingress_vs_serve_rps": round(gs.rps / sv.rps, 2),
        }
        print(f"  c={c:<3} fleet-gateway / serve-noop req/s = {gw.rps / sv.rps:.2f}x "
              f"(goal >= 0.67x);  p50 delta = {gw.p50_ms - sv.p50_ms:+.2f} ms"
              f"{' (goal <= +2 ms)' if c == 1 else ''};  "
              f"fleet-serve / serve-noop = {gs.rps / sv.rps:.2f}x")
    write_result("gateway", {"results": [r.__dict__ for r in results], "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
