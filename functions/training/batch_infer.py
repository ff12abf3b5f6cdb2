"""`batch_infer`: a registered model over a parquet dataset with Ray Data.

read_parquet (file or s3) -> map_batches with an actor pool (each actor loads the model
once; fractional CPUs, GPU when asked) -> write_parquet with the prediction columns added.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from fleet import function
from fleet.artifacts import ArtifactStore, to_uri
from fleet.config import load_settings
from fleet.flavors.torch import LoadedModel, load_bundle
from fleet.store import open_store


class BatchInferRequest(BaseModel):
    model: str = Field(description="name, name:version or name@alias")
    input: str = Field(description="Parquet file or directory (file://, s3:// or a path).")
    output: str = Field(description="Directory to write parquet files with predictions.")
    batch_size: int = Field(8192, ge=1)
    concurrency: int = Field(2, ge=1, description="Predictor actors.")
    cpus_per_actor: float = Field(0.4, gt=0)
    io_cpus: float = Field(0.25, gt=0, description="CPUs per read/write task.")
    use_gpu: bool = False


class BatchInferResult(BaseModel):
    model: str
    version: int
    rows: int
    seconds: float
    rows_per_s: float
    output: str


class Predictor:
    """One per actor: downloads and loads the model once, then predicts batch after batch."""

    def __init__(self, fleet_home: str, artifact_uri: str, use_gpu: bool = False) -> None:
        settings = load_settings(Path(fleet_home))
        with tempfile.TemporaryDirectory() as d:
            path = ArtifactStore(settings).get_file(artifact_uri, Path(d) / "model.pt")
            self.model = LoadedModel(load_bundle(path), device="cuda" if use_gpu else "cpu")

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        x = batch[self.model.features].to_numpy(dtype=np.float32)
        for name, values in self.model.predict(x).items():
            batch[name] = values if values.dtype != object else values.astype(str)
        return batch


@function(cpus=0.1, timeout_s=6 * 3600, retries=1)
def batch_infer(req: BatchInferRequest) -> BatchInferResult:
    """Predict over a parquet dataset with a registered model; write parquet."""
    import ray.data

    settings = load_settings()
    store = open_store(settings.resolved_store_url)
    artifacts = ArtifactStore(settings)
    version = store.models.resolve(req.model)
    in_fs, in_path = artifacts.pyarrow_filesystem(to_uri(req.input))
    out_fs, out_path = artifacts.pyarrow_filesystem(to_uri(req.output))
    start = time.perf_counter()
    # Fractional CPUs everywhere: Ray Data's default of one CPU per read/write task next to
    # the predictor actors deadlocks a 2-core node.
    io_args = {"num_cpus": req.io_cpus}
    ds = ray.data.read_parquet(in_path, filesystem=in_fs, ray_remote_args=io_args)
    missing = [c for c in load_features(artifacts, version.artifact_uri)
               if c not in ds.schema().names]
    if missing:
        raise ValueError(f"Input lacks the model's feature column(s) {missing}; it has "
                         f"{ds.schema().names}.")
    ds = ds.map_batches(
        Predictor, fn_constructor_kwargs={"fleet_home": str(settings.home),
                                          "artifact_uri": version.artifact_uri,
                                          "use_gpu": req.use_gpu},
        batch_size=req.batch_size, batch_format="pandas",
        # Start with one actor: Ray Data's file listing asks for a whole CPU, and a full
        # pool reserved first starves it on a 2-core node. The pool grows after listing.
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=req.concurrency),
        num_cpus=req.cpus_per_actor, num_gpus=1 if req.use_gpu else 0)
    ds.write_parquet(out_path, filesystem=out_fs, ray_remote_args=io_args)
    seconds = time.perf_counter() - start
    rows = ray.data.read_parquet(out_path, filesystem=out_fs, ray_remote_args=io_args).count()
    return BatchInferResult(model=version.model, version=version.version, rows=rows,
                            seconds=round(seconds, 3), rows_per_s=round(rows / seconds, 1),
                            output=to_uri(req.output))


def load_features(artifacts: ArtifactStore, uri: str) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        return load_bundle(artifacts.get_file(uri, Path(d) / "m.pt"))["spec"]["features"]
