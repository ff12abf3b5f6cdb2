"""`batch_infer`: a registered model over a parquet dataset, written back as parquet with
the prediction columns added. Two executors, one result:

- `ray_data`: read_parquet (file or s3) -> map_batches with an actor pool (each actor loads
  the model once; fractional CPUs, GPU when asked) -> write_parquet. It spreads the work
  over every node of the cluster.
- `local`: one Ray task streams the dataset through the model: pyarrow's threaded scanner
  reads ahead, torch predicts with the task's CPUs as its threads, and a writer thread
  writes while the next batch is predicted. On a single node this does the same work
  without Ray Data's per-block scheduling, object-store hops and actor start-up, which
  bench/batch_infer measured at half the throughput of a bare loop.

`auto` (the default) picks `local` on a one-node cluster without a GPU, else `ray_data`.
"""

from __future__ import annotations

import contextvars
import queue
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.dataset
from pydantic import BaseModel, Field

from fleet import function
from fleet.artifacts import ArtifactStore, ReadLocation, WriteLocation, to_uri
from fleet.config import load_settings
from fleet.flavors.torch import LoadedModel, load_bundle
from fleet.runtime.context import Progress
from fleet.services import in_invocation


class BatchInferRequest(BaseModel):
    model: str = Field(description="name, name:version or name@alias")
    input: ReadLocation = Field(
        description="Parquet file or directory (file://, s3:// or a path), under a data root.")
    output: WriteLocation = Field(
        description="Directory to write parquet files with predictions, under a data root.")
    batch_size: int = Field(8192, ge=1)
    concurrency: int = Field(2, ge=1, description="Predictor actors.")
    cpus_per_actor: float = Field(0.4, gt=0)
    io_cpus: float = Field(0.25, gt=0, description="CPUs per read/write task.")
    use_gpu: bool = False
    executor: Literal["auto", "local", "ray_data"] = Field(
        "auto", description="auto: local on a one-node cluster without a GPU, else ray_data "
                            "(which spreads over every node).")


class BatchInferResult(BaseModel):
    model: str
    version: int
    rows: int
    seconds: float
    rows_per_s: float
    output: str
    executor: str = "ray_data"


def predict_table(model: LoadedModel, batch: pa.Table) -> pa.Table:
    """Arrow in, Arrow out: the feature columns go to numpy without a pandas frame, and the
    predictions are appended as columns (bench/batch_infer: pandas conversions cost more
    than the forward pass)."""
    x = np.column_stack([batch.column(f).to_numpy(zero_copy_only=False)
                         for f in model.features]).astype(np.float32, copy=False)
    for name, values in model.predict(x).items():
        col = pa.array(values if values.dtype != object else values.astype(str))
        i = batch.schema.get_field_index(name)
        batch = batch.set_column(i, name, col) if i >= 0 else batch.append_column(name, col)
    return batch


def _load_model(settings, artifact_uri: str, device: str = "cpu") -> LoadedModel:
    with tempfile.TemporaryDirectory() as d:
        path = ArtifactStore(settings).get_file(artifact_uri, Path(d) / "model.pt")
        return LoadedModel(load_bundle(path), device=device, settings=settings)


class Predictor:
    """One per actor: downloads and loads the model once, then predicts batch after batch,
    counting the rows it has done (for the invocation's progress)."""

    def __init__(self, fleet_home: str, artifact_uri: str, use_gpu: bool = False,
                 counter=None) -> None:
        settings = load_settings(Path(fleet_home))
        self.model = _load_model(settings, artifact_uri, "cuda" if use_gpu else "cpu")
        self.counter = counter

    def __call__(self, batch: pa.Table) -> pa.Table:
        batch = predict_table(self.model, batch)
        if self.counter is not None:
            self.counter.add.remote(batch.num_rows)  # fire and forget
        return batch


def run_local(fleet_home: str, artifact_uri: str, in_uri: str, out_uri: str,
              batch_size: int, threads: int, counter=None) -> int:
    """The `local` executor, as one Ray task: read ahead, predict, write behind. Returns
    the rows written."""
    import pyarrow.parquet as pq
    import torch

    settings = load_settings(Path(fleet_home))
    artifacts = ArtifactStore(settings)
    model = _load_model(settings, artifact_uri)
    torch.set_num_threads(max(1, threads))
    in_fs, in_path = artifacts.pyarrow_filesystem(in_uri)
    out_fs, out_path = artifacts.pyarrow_filesystem(out_uri)
    out_fs.create_dir(out_path, recursive=True)
    source = pyarrow.dataset.dataset(in_path, filesystem=in_fs, format="parquet")
    tables: queue.Queue = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def write() -> None:  # pyarrow's writer releases the GIL: it overlaps the predictions
        writer = None
        try:
            while (t := tables.get()) is not None:
                if writer is None:
                    writer = pq.ParquetWriter(f"{out_path}/part-00000.parquet", t.schema,
                                              filesystem=out_fs)
                writer.write_table(t)
        except BaseException as exc:  # reported by the reading side
            failure.append(exc)
            while tables.get() is not None:  # drain, so the reader never blocks
                pass
        finally:
            if writer is not None:
                writer.close()

    writer_thread = threading.Thread(target=write, name="batch-infer-writer", daemon=True)
    writer_thread.start()
    rows = 0
    try:
        for rb in source.to_batches(batch_size=batch_size, batch_readahead=4,
                                    use_threads=True):
            if failure:
                break
            t = predict_table(model, pa.Table.from_batches([rb]))
            tables.put(t)
            rows += t.num_rows
            if counter is not None:
                counter.add.remote(t.num_rows)
    finally:
        tables.put(None)
        writer_thread.join()
    if failure:
        raise failure[0]
    return rows


def _executor(req: BatchInferRequest) -> str:
    if req.executor != "auto":
        return req.executor
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return "local" if len(nodes) == 1 and not req.use_gpu else "ray_data"


class RowCounter:
    """Rows predicted so far, summed over the predictor actors."""

    def __init__(self) -> None:
        self.rows = 0

    def add(self, n: int) -> None:
        self.rows += n

    def get(self) -> int:
        return self.rows


class _ProgressReporter:
    """Every second, rows done (from the counter actor), of how many, and rows/s go into
    the invocation's record. Never holds up the run: it stops at once when asked, and a
    late poll cannot overwrite the final figures (one lock, one flag)."""

    def __init__(self, counter, total: int, started: float) -> None:
        self._counter, self._total, self._started = counter, total, started
        self._progress = Progress(rows_total=total)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=contextvars.copy_context().run,
                                        args=(self._loop,), daemon=True)
        self._thread.start()

    def _write(self, done: int, force: bool = False) -> None:
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        self._progress.update(rows_done=done, rows_per_s=round(done / elapsed, 1),
                              percent=round(100 * done / self._total, 1) if self._total
                              else 100.0, force=force)

    def _loop(self) -> None:
        import ray

        while not self._stop.wait(1.0):
            ref = self._counter.get.remote()
            ready, _ = ray.wait([ref], timeout=2.0)
            with self._lock:
                if ready and not self._stop.is_set():
                    self._write(ray.get(ready[0]))

    def stop(self) -> None:
        self._stop.set()

    def finish(self, done: int) -> None:
        with self._lock:
            self._stop.set()
            self._write(done, force=True)


@function(cpus=0.1, timeout_s=6 * 3600, retries=1)
def batch_infer(req: BatchInferRequest) -> BatchInferResult:
    """Predict over a parquet dataset with a registered model; write parquet."""
    import ray

    settings = load_settings()
    svc, who = in_invocation(settings)
    artifacts = ArtifactStore(settings)
    version = svc.models.version(who, req.model)
    in_fs, in_path = artifacts.pyarrow_filesystem(to_uri(req.input))
    source = pyarrow.dataset.dataset(in_path, filesystem=in_fs, format="parquet")
    missing = [c for c in load_features(artifacts, version.artifact_uri)
               if c not in source.schema.names]
    if missing:
        raise ValueError(f"Input lacks the model's feature column(s) {missing}; it has "
                         f"{source.schema.names}.")
    total = source.count_rows()
    counter = ray.remote(num_cpus=0)(RowCounter).remote()
    start = time.perf_counter()
    reporter = _ProgressReporter(counter, total, start)
    executor = _executor(req)
    run = _with_local if executor == "local" else _with_ray_data
    try:
        rows = run(req, settings, artifacts, version.artifact_uri, counter, total)
    except BaseException:
        reporter.stop()
        raise
    seconds = time.perf_counter() - start
    reporter.finish(rows)
    return BatchInferResult(model=version.model, version=version.version, rows=rows,
                            seconds=round(seconds, 3), rows_per_s=round(rows / seconds, 1),
                            output=to_uri(req.output), executor=executor)


def _with_local(req, settings, artifacts, artifact_uri: str, counter, total: int) -> int:
    import ray

    cpus = req.concurrency * req.cpus_per_actor  # what the actor pool would have had
    task = ray.remote(num_cpus=cpus)(run_local)
    return ray.get(task.remote(str(settings.home), artifact_uri, to_uri(req.input),
                               to_uri(req.output), req.batch_size, max(1, round(cpus)),
                               counter))


def _with_ray_data(req, settings, artifacts, artifact_uri: str, counter, total: int) -> int:
    import ray.data

    in_fs, in_path = artifacts.pyarrow_filesystem(to_uri(req.input))
    out_fs, out_path = artifacts.pyarrow_filesystem(to_uri(req.output))
    # Fractional CPUs everywhere: Ray Data's default of one CPU per read/write task next to
    # the predictor actors deadlocks a 2-core node.
    io_args = {"num_cpus": req.io_cpus}
    ds = ray.data.read_parquet(in_path, filesystem=in_fs, ray_remote_args=io_args)
    ds = ds.map_batches(
        Predictor, fn_constructor_kwargs={"fleet_home": str(settings.home),
                                          "artifact_uri": artifact_uri,
                                          "use_gpu": req.use_gpu, "counter": counter},
        batch_size=req.batch_size, batch_format="pyarrow",
        # Start with one actor: Ray Data's file listing asks for a whole CPU, and a full
        # pool reserved first starves it on a 2-core node. The pool grows after listing.
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=req.concurrency),
        num_cpus=req.cpus_per_actor, num_gpus=1 if req.use_gpu else 0)
    ds.write_parquet(out_path, filesystem=out_fs, ray_remote_args=io_args)
    # map_batches keeps every row, so the input's row count (parquet metadata) is the
    # output's; reading the output back only to count it cost a second Ray Data job.
    return total


def load_features(artifacts: ArtifactStore, uri: str) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        return load_bundle(artifacts.get_file(uri, Path(d) / "m.pt"))["spec"]["features"]
