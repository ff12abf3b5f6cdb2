"""bench/train: seconds per epoch for Fleet's train (2 Ray Train workers) against a plain
single-process torch loop on the same data and model, and the start-up cost.

    python -m bench.train [--rows 300000] [--epochs 3]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
from torch import nn

from bench.common import ROOT, start_fleet, stop_fleet, write_result


def plain_loop(x: np.ndarray, y: np.ndarray, epochs: int, batch: int = 256) -> list[float]:
    from fleet.flavors.torch import build_mlp

    torch.manual_seed(0)
    model, loss_fn = build_mlp(x.shape[1], 2, [64, 64]), nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = torch.from_numpy(np.random.default_rng(epoch).permutation(len(x)))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = loss_fn(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    import pandas as pd

    from fleet.cli.demo import make_data

    path, _ = make_data(ROOT / ".tmp" / "bench-data" / "train", rows=args.rows)
    df = pd.read_parquet(path)
    x = df[["age", "income"]].to_numpy(np.float32)
    x = (x - x.mean(0)) / x.std(0)
    y = df["churned"].to_numpy(np.int64)
    n_train = int(len(x) * 0.8)  # the same share train() trains on
    plain = plain_loop(x[:n_train], y[:n_train], args.epochs)
    start_fleet()
    try:
        from sqlalchemy import select

        from fleet.runtime import Client
        from fleet.store.schema import run_metrics as M

        client = Client()
        inv = client.invoke("train", {"data": str(path), "features": ["age", "income"],
                                      "label": "churned", "epochs": args.epochs,
                                      "num_workers": 2, "experiment": "bench-train"})
        assert inv.status.value == "succeeded", inv.error_message
        run_id = inv.result["run_id"]
        with client.store.engines.read.connect() as conn:
            at = [r[0] for r in conn.execute(select(M.c.at).where(
                M.c.run_id == run_id, M.c.key == "train_loss").order_by(M.c.step))]
    finally:
        stop_fleet()
    epochs = [b - a for a, b in zip(at, at[1:], strict=False)]
    per_epoch = float(np.median(epochs)) if epochs else float("nan")
    startup = (at[0] - inv.started_at) - per_epoch
    plain_epoch = float(np.median(plain))
    print(f"plain torch loop     {plain_epoch:.2f} s/epoch")
    print(f"Fleet train (2 Ray Train workers)  {per_epoch:.2f} s/epoch, start-up "
          f"{startup:.1f} s, total {inv.duration_s:.1f} s")
    print(f"ratio (plain / Fleet per epoch) {plain_epoch / per_epoch:.2f}x")
    write_result("train", {"rows": args.rows, "epochs": args.epochs,
                           "plain_s_per_epoch": plain_epoch, "fleet_s_per_epoch": per_epoch,
                           "fleet_startup_s": startup, "fleet_total_s": inv.duration_s})
    return 0


if __name__ == "__main__":
    sys.exit(main())
