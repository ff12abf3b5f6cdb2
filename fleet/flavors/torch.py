"""The torch flavor: a model version is one torch file with its weights and everything
needed to predict (feature names, normalisation, classes): it loads without the trainer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from fleet.flavors import factories


def build_mlp(n_in: int, n_out: int, hidden: list[int], dropout: float = 0.0) -> nn.Module:
    layers: list[nn.Module] = []
    prev = n_in
    for width in hidden:
        layers += [nn.Linear(prev, width), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        prev = width
    layers.append(nn.Linear(prev, n_out))
    return nn.Sequential(*layers)


def build(spec: dict[str, Any], settings=None) -> nn.Module:
    """spec: {"family": "mlp" | "custom", ...}; custom names a registered factory
    `f(n_in, n_out, **kwargs) -> nn.Module`."""
    n_out = max(1, len(spec["classes"])) if spec["task"] == "classification" else 1
    if spec["family"] == "mlp":
        return build_mlp(len(spec["features"]), n_out, spec["hidden"], spec.get("dropout", 0))
    # the allow-list, also for stored bundles; `settings` of the installation (a Ray Train or
    # Serve worker may not have FLEET_HOME in its environment)
    factory = factories.resolve(spec["factory"], settings)
    return factory(len(spec["features"]), n_out, **spec.get("kwargs", {}))


class LoadedModel:
    """A model version loaded for inference."""

    def __init__(self, bundle: dict[str, Any], device: str = "cpu", settings=None) -> None:
        self.device = torch.device(device)
        self.spec = bundle["spec"]
        self.mean = np.asarray(bundle["mean"], dtype=np.float32)
        self.std = np.asarray(bundle["std"], dtype=np.float32)
        self.module = build(self.spec, settings)
        self.module.load_state_dict(bundle["state_dict"])
        self.module.to(self.device).eval()

    @property
    def features(self) -> list[str]:
        return self.spec["features"]

    @torch.no_grad()
    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy((x.astype(np.float32) - self.mean) / self.std).to(self.device)
        return self.module(t).cpu().numpy()

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        out = self.predict_raw(x)
        if self.spec["task"] == "regression":
            return {"prediction": out[:, 0]}
        probs = torch.softmax(torch.from_numpy(out), dim=1).numpy()
        idx = probs.argmax(axis=1)
        classes = np.asarray(self.spec["classes"], dtype=object)
        return {"prediction": classes[idx], "probability": probs.max(axis=1)}


def save_bundle(path, spec, module: nn.Module, mean, std, extra: dict | None = None) -> None:
    state = {k: v.detach().cpu() for k, v in module.state_dict().items()}  # loads anywhere
    torch.save({"spec": spec, "state_dict": state, "mean": list(map(float, mean)),
                "std": list(map(float, std)), **(extra or {})}, path)


def load_bundle(path) -> dict[str, Any]:
    """weights_only: a bundle is tensors, lists and strings; nothing in it may run code."""
    return torch.load(path, map_location="cpu", weights_only=True)
