"""bench/batch_infer: Fleet's batch_infer (Ray Data) against a bare single-process torch loop,
same model, same parquet, same work (read, predict, write), in the same run, at 1e6 and 1e7
rows.

    python -m bench.batch_infer [--rows 1000000,10000000]

Each executor (ray_data, local) is measured in the same run against the same bare loop.
Start-up is measured with the same call on a 1,000-row file: what it costs is fixed.
Goals (issue 8): warm 1e7 rows >= 0.8x the bare loop's rows/s, 1e6 rows >= 0.5x, start-up
included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import ROOT, start_fleet, stop_fleet, write_result

EXECUTORS = ("ray_data", "local")  # auto picks local on this one-node cluster


def bare_loop(model_path: Path, src: Path, dest: Path, batch: int = 8192) -> float:
    from fleet.flavors.torch import LoadedModel, load_bundle

    start = time.perf_counter()
    model = LoadedModel(load_bundle(model_path))
    table = pq.read_table(src)
    out = []
    for b in table.to_batches(max_chunksize=batch):
        df = b.to_pandas()
        for name, values in model.predict(df[model.features].to_numpy(np.float32)).items():
            df[name] = values
        out.append(pa.Table.from_pandas(df, preserve_index=False))
    pq.write_table(pa.concat_tables(out), dest)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1000000,10000000",
                    help="comma-separated sizes; the first is also run cold")
    args = ap.parse_args()
    sizes = [int(float(x)) for x in args.rows.split(",")]
    from fleet.cli.demo import make_data

    data_dir = ROOT / ".tmp" / "bench-data"
    tables = {n: make_data(data_dir / f"rows-{n}", rows=n)[0] for n in sizes}
    small, _ = make_data(data_dir / "small", rows=1000)
    out_dir = ROOT / ".tmp" / "bench-out"
    out_dir.mkdir(parents=True, exist_ok=True)
    start_fleet()
    out: dict = {}
    try:
        from fleet.artifacts import ArtifactStore
        from fleet.runtime import Client

        client = Client()
        trained = client.invoke("train", {"data": str(small), "features": ["age", "income"],
                                          "label": "churned", "epochs": 1,
                                          "experiment": "bench-infer"})
        assert trained.status.value == "succeeded", trained.error_message

        def fleet_run(src, dest, executor: str) -> dict:
            inv = client.invoke("batch_infer", {"model": "bench-infer", "input": str(src),
                                                "output": dest, "executor": executor})
            assert inv.status.value == "succeeded", inv.error_message
            assert inv.result["executor"] == executor
            return inv.result

        with tempfile.TemporaryDirectory(dir=out_dir) as d:
            model_path = ArtifactStore(client.settings).get_file(
                trained.result["artifact_uri"], Path(d) / "m.pt")
            bare = {n: n / bare_loop(model_path, tables[n], Path(d) / f"bare-{n}.parquet")
                    for n in sizes}
            for executor in EXECUTORS:
                out[executor] = run_executor(fleet_run, executor, sizes, tables, small, bare,
                                             d)
    finally:
        stop_fleet()
    write_result("batch_infer", out)
    return 0


def run_executor(fleet_run, executor: str, sizes, tables, small, bare, d) -> dict:
    """Cold (what a user pays once) on the first size, then the fixed cost on a warm
    cluster (1,000 rows), then each size warm: steady = rows / (warm - fixed)."""
    print(f"\n== executor {executor}", flush=True)
    cold = fleet_run(tables[sizes[0]], f"{d}/{executor}-cold", executor)
    fixed = fleet_run(small, f"{d}/{executor}-fixed", executor)["seconds"]
    res: dict = {"fixed_startup_s": fixed}
    for n in sizes:
        warm = fleet_run(tables[n], f"{d}/{executor}-warm-{n}", executor)
        bare_rps = bare[n]
        steady = n / max(warm["seconds"] - fixed, 1e-3)
        row = {"bare_rows_per_s": round(bare_rps), "warm_rows_per_s": warm["rows_per_s"],
               "ratio_warm": round(warm["rows_per_s"] / bare_rps, 3),
               "steady_rows_per_s": round(steady),
               "ratio_without_startup": round(steady / bare_rps, 3)}
        if n == sizes[0]:
            row.update(cold_rows_per_s=cold["rows_per_s"],
                       ratio_cold=round(cold["rows_per_s"] / bare_rps, 3))
        res[str(n)] = row
        print(f"\n{n:,} rows")
        print(f"  bare torch loop        {bare_rps:>10,.0f} rows/s")
        if n == sizes[0]:
            print(f"  Fleet batch_infer cold {cold['rows_per_s']:>10,.0f} rows/s  "
                  f"({cold['seconds']:.2f} s) = {row['ratio_cold']:.2f}x")
        print(f"  Fleet batch_infer warm {warm['rows_per_s']:>10,.0f} rows/s  "
              f"({warm['seconds']:.2f} s) = {row['ratio_warm']:.2f}x "
              f"(goal: 1e6 >= 0.5x, 1e7 >= 0.8x)")
        print(f"  without ~{fixed:.2f} s fixed start-up {steady:>10,.0f} rows/s = "
              f"{row['ratio_without_startup']:.2f}x", flush=True)
    return res


if __name__ == "__main__":
    sys.exit(main())
