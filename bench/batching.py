"""bench/batching: one model served with and without dynamic batching (@serve.batch), at
concurrency 32 with wrk, in the same run, through the router (how endpoints are called) and
through Serve's proxy. Goal: >= 3x requests/s with batching.

    python -m bench.batching [--seconds 8] [--width 1024]

The model is an MLP with three layers of --width (default 1024). Batching pays where the
forward pass dominates; for a small model Serve's per-request overhead (proxy, replica)
caps both variants alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import ROOT, start_fleet, stop_fleet, write_result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--width", type=int, default=1024, help="MLP layer width (3 layers).")
    args = ap.parse_args()
    from bench import wrk
    from fleet.cli.demo import make_data

    table, _ = make_data(ROOT / ".tmp" / "bench-data" / "batching", rows=3000)
    start_fleet()
    results: dict[tuple[str, str], object] = {}
    try:
        from fleet.runtime import Client

        client = Client()
        inv = client.invoke("train", {"data": str(table), "features": ["age", "income"],
                                      "label": "churned", "epochs": 1, "num_workers": 1,
                                      "hidden": [args.width] * 3,
                                      "experiment": "bench-batching"})
        assert inv.status.value == "succeeded", inv.error_message
        body = json.dumps({"instances": [{"age": 41, "income": 52000.0}]})
        for label, batching in (("batched", True), ("unbatched", False)):
            # the same version app, redeployed with batching on or off (1 replica, 1 CPU)
            dep = client.invoke("deploy", {
                "model": f"bench-batching:{inv.result['version']}", "endpoint": "batching",
                "serving": {"batching": batching, "max_batch_size": 32,
                            "batch_wait_timeout_s": 0.005, "num_cpus": 1,
                            "max_ongoing_requests": 64, "log_sample_rate": 0}})
            assert dep.status.value == "succeeded", dep.error_message
            time.sleep(1)
            for path, url in (("router", dep.result["url"]),
                              ("serve proxy", dep.result["version_url"])):
                name = f"{label} via {path}"
                wrk.run(name, url, 32, 2, body=body)  # warm-up
                results[(label, path)] = r = wrk.run(name, url, 32, args.seconds, body=body)
                print(r.row(), flush=True)
    finally:
        stop_fleet()
    ratios = {path: results[("batched", path)].rps / results[("unbatched", path)].rps
              for path in ("router", "serve proxy")}
    print(f"\nMLP 3x{args.width}, c=32, batched / unbatched requests/s: "
          + ", ".join(f"via {p} {r:.2f}x" for p, r in ratios.items()) + " (goal >= 3x)")
    write_result(f"batching-{args.width}", {
        "width": args.width, "ratio": ratios["router"], "ratios": ratios,
        "results": {f"{k[0]} via {k[1]}": v.__dict__ for k, v in results.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
