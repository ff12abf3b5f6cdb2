"""bench/batch_infer: Fleet's batch_infer (Ray Data) against a bare single-process torch loop,
same model, same 1e6-row parquet, same work (read, predict, write), in the same run.

    python -m bench.batch_infer [--rows 1000000]

Start-up is measured with the same call on a 1,000-row file: what it costs is fixed.
Goal: >= 0.8x the bare loop's rows/s, start-up included.
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
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    from fleet.demo import make_data

    data_dir = ROOT / ".tmp" / "bench-data"
    big, _ = make_data(data_dir / "big", rows=args.rows)
    small, _ = make_data(data_dir / "small", rows=1000)
    start_fleet()
    try:
        from fleet.artifacts import ArtifactStore
        from fleet.runtime import Client

        client = Client()
        trained = client.invoke("train", {"data": str(small), "features": ["age", "income"],
                                          "label": "churned", "epochs": 1,
                                          "experiment": "bench-infer"})
        assert trained.status.value == "succeeded", trained.error_message
        with tempfile.TemporaryDirectory() as d:
            model_path = ArtifactStore(client.settings).get_file(
                trained.result["artifact_uri"], Path(d) / "m.pt")
            bare_s = bare_loop(model_path, big, Path(d) / "bare.parquet")
            runs = {}
            # Cold full run (what a user pays once), then the fixed cost on a warm cluster
            # (1,000 rows), then the full run warm: steady rows/s = rows / (warm - fixed).
            for label, src in (("full", big), ("startup", small), ("warm", big)):
                inv = client.invoke("batch_infer", {"model": "bench-infer", "input": str(src),
                                                    "output": f"{d}/ray-{label}"})
                assert inv.status.value == "succeeded", inv.error_message
                runs[label] = inv.result
    finally:
        stop_fleet()
    bare_rps = args.rows / bare_s
    cold_rps = runs["full"]["rows_per_s"]
    warm_rps = runs["warm"]["rows_per_s"]
    fixed = runs["startup"]["seconds"]
    steady = args.rows / max(runs["warm"]["seconds"] - fixed, 1e-3)
    print(f"bare torch loop        {bare_rps:>10,.0f} rows/s  ({bare_s:.2f} s)")
    print(f"Fleet batch_infer cold {cold_rps:>10,.0f} rows/s  ({runs['full']['seconds']:.2f} s)")
    print(f"Fleet batch_infer warm {warm_rps:>10,.0f} rows/s  ({runs['warm']['seconds']:.2f} s, "
          f"of which ~{fixed:.2f} s fixed start-up)")
    print(f"  without start-up     {steady:>10,.0f} rows/s")
    print(f"ratio cold {cold_rps / bare_rps:.2f}x, warm {warm_rps / bare_rps:.2f}x (goal >= 0.8x); "
          f"without start-up {steady / bare_rps:.2f}x")
    write_result("batch_infer", {"rows": args.rows, "bare_rows_per_s": bare_rps,
                                 "cold_rows_per_s": cold_rps, "warm_rows_per_s": warm_rps,
                                 "fixed_startup_s": fixed, "steady_rows_per_s": steady,
                                 "ratio_cold": cold_rps / bare_rps,
                                 "ratio_warm": warm_rps / bare_rps,
                                 "ratio_without_startup": steady / bare_rps})
    return 0


if __name__ == "__main__":
    sys.exit(main())
