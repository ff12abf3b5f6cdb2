"""bench/invocation_ids: what the shape of an invocation id costs SQLite's writes.

    python -m bench.invocation_ids [--rows 100000]

The invocations table is keyed by its id. This replays the hot path's writes (a group
commit of 30 creates with their audit rows, then the previous group's finishes) on a table
of `--rows` rows, with Fleet's ids (fleet.store.invocations.new_id: clock first) and with
uuid4 ids (random), in one run. The schema is the real one, made by fleet.store.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid

from bench.common import ROOT, write_result

GROUP = 30


def _replay(make_id, rows: int, measured: int) -> dict:
    from fleet.store import Status, open_store
    from fleet.store.invocations import InvocationRepo

    with tempfile.TemporaryDirectory(dir=ROOT / ".tmp") as d:
        store = open_store(f"sqlite:///{d}/ids.db")
        repo = store.invocations

        def creates() -> list[dict]:
            out = []
            for _ in range(GROUP):
                row = repo.new_row(function="noop", payload={}, caller="bench", via="http",
                                   timeout_s=60, retries=0, idempotency_key=None,
                                   ray_job_id=None, cpus=0.1, gpus=0)
                row["id"] = make_id()
                out.append(row)
            return out

        def commit(ops) -> None:
            with store.engines.write.begin() as conn:
                for op, items in ops:
                    op(conn, items)

        for _ in range(rows // GROUP):
            commit([(InvocationRepo.insert_batch, creates())])
        previous: list[dict] = []
        t0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(measured // GROUP):
            group = creates()
            ends = [InvocationRepo.outcome_item(r["id"], Status.SUCCEEDED, result={"ok": True},
                                                attempts=1, started_at=time.time())
                    for r in previous]
            commit([(InvocationRepo.insert_batch, group)]
                   + ([(InvocationRepo.finish_batch, ends)] if ends else []))
            previous = group
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        store.engines.write.dispose()
    return {"invocations_per_s": round(measured / wall),
            "cpu_us_per_invocation": round(cpu / measured * 1e6, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--measured", type=int, default=30_000)
    args = ap.parse_args()
    from fleet.store.invocations import new_id

    (ROOT / ".tmp").mkdir(exist_ok=True)
    out = {}
    for name, make in (("uuid4 (random)", lambda: f"inv_{uuid.uuid4().hex}"),
                       ("fleet new_id (clock first)", new_id)):
        out[name] = r = _replay(make, args.rows, args.measured)
        print(f"{name:<28} {r['invocations_per_s']:>7,} invocations/s  "
              f"{r['cpu_us_per_invocation']:>6} us CPU each (create, audit row, finish; "
              f"table of {args.rows:,} rows)", flush=True)
    a, b = out["uuid4 (random)"], out["fleet new_id (clock first)"]
    print(f"clock-first ids: {b['invocations_per_s'] / a['invocations_per_s']:.1f}x the "
          f"writes/s of random ids, {a['cpu_us_per_invocation'] / b['cpu_us_per_invocation']:.1f}x"
          f" less CPU each")
    write_result("invocation_ids", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
