"""bench/instance_kill: what a SIGKILLed gateway or router instance costs its callers.

    python -m bench.instance_kill [--kills 3] [--callers 4]

Under steady load (`--callers` loops that open a new connection per request, as many that
keep one open; bench.loadgen), it kills the primary gateway instance, the second gateway
instance and router instance 0, `--kills` times each, and counts the failed requests: in
all, without keep-alive, those that started after the kill, and those that started more
than 0.2 s after it (the goal: none). Between
kills it waits until Ray has restarted the instance and it serves again.

The kernel setting `net.ipv4.tcp_migrate_req` decides what happens to connections already
queued on the killed instance's socket but not yet accepted: with 0 they are reset, with 1
the kernel hands them to a live instance on the same port. The result records it; run the
bench with each value to compare (see docs/scaling.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.common import ROOT, TOKEN, deploy_small_model, start_fleet, stop_fleet, write_result
from bench.loadgen import instances, kill_under_load

MIGRATE = Path("/proc/sys/net/ipv4/tcp_migrate_req")
ROW = json.dumps({"instances": [{"age": 41, "income": 52000.0}]})


def all_serving(class_name: str, victim: int | None = None, limit_s: float = 120) -> float:
    """Wait until every instance of `class_name` is alive (the victim restarted) and serves
    HTTP again (its server starts on the scheduler's next ping); when that was."""
    import ray

    from fleet.cluster import NAMESPACE

    t0 = time.time()
    while time.time() - t0 < limit_s:
        live = instances(class_name)
        if victim not in live.values() and len(live) == 2:
            try:
                if all(ray.get([ray.get_actor(n, namespace=NAMESPACE).serving.remote()
                                for n in live], timeout=10)):
                    return time.time()
            except Exception:  # still restarting
                pass
        time.sleep(0.25)
    raise SystemExit(f"{class_name} instances did not all serve again in {limit_s:g}s")


def one_kill(url: str, body: str, headers: dict, class_name: str, name: str,
             callers: int) -> dict:
    all_serving(class_name)
    victim = instances(class_name)[name]
    load, killed_at = kill_under_load(victim, url, body, headers, callers)
    failed, after = load.failed_across(killed_at)
    back = all_serving(class_name, victim)
    return {"requests": len(load.records), "failed": len(failed), "back_s": back - killed_at,
            "failed_without_keepalive": sum(1 for f in failed if f[0] == "fresh"),
            # in the ~0.1 s the process takes to die, queued connections are reset unless
            # tcp_migrate_req moves them; after that, none may fail (the goal)
            "failed_started_after_kill": sum(1 for f in failed if f[1] > killed_at),
            "failed_started_0.2s_after": sum(1 for f in failed if f[1] > killed_at + 0.2),
            "started_after_kill": len(after)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--callers", type=int, default=4, help="loops of each kind")
    args = ap.parse_args()
    from fleet.cli.demo import make_data

    migrate = MIGRATE.read_text().strip() if MIGRATE.exists() else "absent"
    table, _ = make_data(ROOT / ".tmp" / "bench-data" / "kill", rows=2000)
    start_fleet()
    out: dict = {"tcp_migrate_req": migrate, "callers_per_kind": args.callers}
    try:
        from fleet.cluster import ClusterInfo
        from fleet.runtime import Client
        from fleet.serving import router_url

        client = Client()
        deploy_small_model(client, table, "bench-kill", "kill")
        gateway = ClusterInfo.read(client.settings).gateway_url
        targets = [
            ("gateway primary", f"{gateway}/v1/functions/hello/invoke?wait=30",
             json.dumps({"name": "kill"}), {"Authorization": f"Bearer {TOKEN}"},
             "Supervisor", "fleet-supervisor"),
            ("gateway secondary", f"{gateway}/v1/functions/hello/invoke?wait=30",
             json.dumps({"name": "kill"}), {"Authorization": f"Bearer {TOKEN}"},
             "Supervisor", "fleet-supervisor-1"),
            ("router", f"{router_url(client.settings)}/endpoints/kill", ROW, {},
             "RouterActor", "fleet-router-0"),
        ]
        for label, url, body, headers, cls, name in targets:
            runs = []
            for i in range(args.kills):
                print(f"{label}: kill {i + 1}/{args.kills}", flush=True)
                runs.append(one_kill(url, body, headers, cls, name, args.callers))
            out[label] = {"runs": runs, **{k: sum(r[k] for r in runs) for k in runs[0]
                                           if k != "back_s"},
                          "back_s_max": round(max(r["back_s"] for r in runs), 1)}
    finally:
        stop_fleet()
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "runs"}
                          if isinstance(v, dict) else v) for k, v in out.items()}, indent=1))
    write_result(f"instance_kill-migrate{migrate}", out)
    bad = sum(v["failed_started_0.2s_after"] for v in out.values() if isinstance(v, dict))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
