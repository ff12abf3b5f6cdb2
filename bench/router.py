"""bench/router: a model version called through Fleet's router against the same version
called directly through Serve's HTTP proxy, in the same run. Goal: router p50 <= direct
+1 ms and router req/s >= 0.8x direct.

    python -m bench.router [--seconds 8] [--routers 2]

`--routers`: how many router instances share the port (SO_REUSEPORT). Run it with 1 and
with 2 to see what the second instance costs or gives; each run's ratios are against the
direct path measured in that run.

Three paths to the same replica (one version app, 0.5 CPU, batching on):
- direct:      wrk -> Serve proxy -> model replica
- fleet router: wrk -> Fleet router (its own HTTP server) -> model replica (by handle)
- serve hop:   wrk -> Serve proxy -> a router *deployment* -> model replica, the design
               the router avoids; measured to show what a second Serve hop costs here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import ROOT, deploy_small_model, start_fleet, stop_fleet, write_result

CALLERS = (1, 16, 64)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--routers", type=int, default=None,
                    help="router instances on the port (default: the config's, 2)")
    args = ap.parse_args()
    from bench import wrk
    from fleet.cli.demo import make_data

    table, _ = make_data(ROOT / ".tmp" / "bench-data" / "router", rows=3000)
    start_fleet(routers=args.routers)
    results = []
    try:
        from ray import serve
        from starlette.responses import JSONResponse

        from fleet.runtime import Client
        from fleet.serving import router_url

        client = Client()
        dep = deploy_small_model(client, table, "bench-router", "bench")
        app = dep["app"]

        @serve.deployment(max_ongoing_requests=128, ray_actor_options={"num_cpus": 0.25})
        class HopRouter:
            def __init__(self, target: str) -> None:
                self.handle = serve.get_app_handle(target)

            async def __call__(self, request):
                status, body = await self.handle.predict.remote(await request.body())
                return JSONResponse(body, status_code=status)

        serve.run(HopRouter.bind(app), name="bench-hop", route_prefix="/hop")
        serve_port = client.settings.serving.serve_port
        body = json.dumps({"instances": [{"age": 41, "income": 52000.0}]})
        targets = [("direct (Serve proxy)", dep["version_url"]),
                   ("fleet router", f"{router_url(client.settings)}/endpoints/bench"),
                   ("serve hop (router deployment)", f"http://127.0.0.1:{serve_port}/hop")]
        time.sleep(2)
        for c in CALLERS:
            for name, url in targets:
                wrk.run(name, url, c, 2, body=body)  # warm-up
                r = wrk.run(name, url, c, args.seconds, body=body)
                print(r.row(), flush=True)
                results.append(r)
    finally:
        stop_fleet()
    by = {(r.name, r.concurrency): r for r in results}
    summary = {}
    print("\nratios (same run):")
    for c in CALLERS:
        d, f = by[("direct (Serve proxy)", c)], by[("fleet router", c)]
        h = by[("serve hop (router deployment)", c)]
        summary[f"c{c}"] = {"router_vs_direct_rps": round(f.rps / d.rps, 2),
                            "router_minus_direct_p50_ms": round(f.p50_ms - d.p50_ms, 2),
                            "hop_vs_direct_rps": round(h.rps / d.rps, 2),
                            "hop_minus_direct_p50_ms": round(h.p50_ms - d.p50_ms, 2)}
        print(f"  c={c:<3} router / direct req/s = {f.rps / d.rps:.2f}x (goal >= 0.8x); "
              f"p50 delta = {f.p50_ms - d.p50_ms:+.2f} ms (goal <= +1 ms);  "
              f"serve hop: {h.rps / d.rps:.2f}x, p50 {h.p50_ms - d.p50_ms:+.2f} ms")
    tag = f"router-{args.routers}" if args.routers else "router"
    write_result(tag, {"routers": args.routers, "results": [r.__dict__ for r in results],
                       "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
