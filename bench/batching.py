"""bench/batching: one model served with and without dynamic batching (@serve.batch), at
concurrency 32 with wrk, in the same run. Goal: >= 3x requests/s with batching.

    python -m bench.batching [--seconds 8]

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
    from fleet.demo import make_data

    table, _ = make_data(ROOT / ".tmp" / "bench-data" / "batching", rows=3000)
    start_fleet()
    try:
        from ray import serve

        from fleet.runtime import Client
        from serve_apps.model import model_app

        client = Client()
        inv = client.invoke("train", {"data": str(table), "features": ["age", "income"],
                                      "label": "churned", "epochs": 1, "num_workers": 1,
                                      "hidden": [args.width] * 3,
                                      "experiment": "bench-batching"})
        assert inv.status.value == "succeeded", inv.error_message
        port = client.settings.serving.serve_port  # Fleet's Serve, started by `fleet up`
        body = json.dumps({"instances": [{"age": 41, "income": 52000.0}]})
        results = {}
        for label, batching in (("batched", True), ("unbatched", False)):
            serve.run(model_app(f"bench-batching:{inv.result['version']}",
                                fleet_home=str(client.settings.home), batching=batching,
                                max_batch_size=32, batch_wait_timeout_s=0.005,
                                num_cpus=1, max_ongoing_requests=64, log_sample_rate=0),
                      name=label, route_prefix=f"/{label}")
            time.sleep(1)
            url = f"http://127.0.0.1:{port}/{label}"
            wrk.run(label, url, 32, 2, body=body)  # warm-up
            results[label] = wrk.run(label, url, 32, args.seconds, body=body)
            print(results[label].row(), flush=True)
            serve.delete(label)
    finally:
        stop_fleet()
    ratio = results["batched"].rps / results["unbatched"].rps
    print(f"\nMLP 3x{args.width}: batched / unbatched requests/s at c=32: {ratio:.2f}x "
          "(goal >= 3x)")
    write_result(f"batching-{args.width}", {"width": args.width, "ratio": ratio, "results": {
        k: v.__dict__ for k, v in results.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
