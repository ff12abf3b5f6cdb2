"""The per-worker training loop that Ray Train runs on every worker.

Checkpoints: rank 0 writes one to artifact storage after every epoch and records its URI on
the run. Every start of this loop (the first, a restart after a lost worker under
FailureConfig, or a stopped run resumed by id) loads that URI, so at most the epoch that
was running when a worker died is repeated. Each start is audited with the epoch it
resumes from.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fleet.artifacts import ArtifactStore, join
from fleet.config import load_settings
from fleet.flavors.torch import build, load_bundle, save_bundle
from fleet.registry import add_function_paths
from fleet.services import acting_as


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)


def _evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, task: str,
              device: torch.device) -> dict[str, float]:
    model.eval()
    with torch.no_grad():
        out = _unwrap(model)(torch.from_numpy(x).to(device))
        if task == "regression":
            pred = out[:, 0]
            mse = float(torch.mean((pred - torch.from_numpy(y).to(device)) ** 2))
            return {"val_loss": mse, "val_rmse": mse ** 0.5}
        target = torch.from_numpy(y).to(device)
        loss = float(nn.functional.cross_entropy(out, target))
        acc = float((out.argmax(dim=1) == target).float().mean())
        return {"val_loss": loss, "val_accuracy": acc}


def train_loop(config: dict) -> None:
    import ray
    import ray.train
    import ray.train.torch

    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    settings = load_settings(Path(config["fleet_home"]))
    add_function_paths(settings)  # a user model factory may live on a configured path
    svc, who = acting_as(config["caller"], settings)  # no invocation context in a worker
    artifacts = ArtifactStore(settings, root=config["artifact_root"])
    run_id, spec = config["run_id"], config["spec"]
    torch.manual_seed(config["seed"])
    x_tr, y_tr, x_va, y_va = ray.get(config["data_ref"])
    mean, std = np.asarray(config["mean"], np.float32), np.asarray(config["std"], np.float32)
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std

    model = build(spec, settings)
    loss_fn = nn.CrossEntropyLoss() if spec["task"] == "classification" else nn.MSELoss()
    bundle, start_epoch = None, 0
    checkpoint_uri = svc.runs.get(who, run_id).checkpoint_uri
    if checkpoint_uri:
        with tempfile.TemporaryDirectory() as d:
            bundle = load_bundle(artifacts.get_file(checkpoint_uri, Path(d) / "ckpt.pt"))
        model.load_state_dict(bundle["state_dict"])
        start_epoch = int(bundle["epoch"])
    if rank == 0:
        svc.runs.attempt(who, run_id, from_epoch=start_epoch, world_size=world)
    model = ray.train.torch.prepare_model(model)  # DDP; on the GPU when use_gpu (NCCL)
    device = ray.train.torch.get_device()
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    if bundle is not None and "optimizer" in bundle:
        opt.load_state_dict(bundle["optimizer"])

    shard = np.arange(rank, len(x_tr), world)
    bs = config["batch_size"]
    for epoch in range(start_epoch + 1, config["epochs"] + 1):
        model.train()
        order = np.random.default_rng(config["seed"] + epoch).permutation(shard)
        total, seen = 0.0, 0
        for i in range(0, len(order), bs):
            idx = order[i:i + bs]
            xb = torch.from_numpy(x_tr[idx]).to(device)
            yb = torch.from_numpy(y_tr[idx]).to(device)
            out = model(xb)
            loss = loss_fn(out[:, 0], yb) if spec["task"] == "regression" else loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            seen += len(idx)
        metrics = {"train_loss": total / max(seen, 1),
                   **_evaluate(model, x_va, y_va, spec["task"], device)}
        if rank == 0:
            with tempfile.TemporaryDirectory() as d:
                path = Path(d) / "ckpt.pt"
                save_bundle(path, spec, _unwrap(model), mean, std,
                            {"epoch": epoch, "optimizer": opt.state_dict()})
                uri = artifacts.put_file(path, join(config["checkpoint_dir"],
                                                    f"epoch-{epoch}.pt"))
            svc.runs.checkpoint(who, run_id, epoch=epoch, uri=uri, metrics=metrics)
        ray.train.report(metrics)
