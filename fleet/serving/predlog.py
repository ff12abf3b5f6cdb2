"""Sampled prediction logging: inputs, outputs, version and latency, to artifact storage.

A replica keeps sampled rows in memory and writes them as one JSON-lines object per flush
(every `flush_rows` rows or `flush_s` seconds, and when the replica stops), under
    <artifact root>/predictions/<model>/v<version>/<YYYY-MM-DD>/<replica>-<seq>.jsonl
which is where drift checks will read them. Writing happens off the request path, and a
failed write is logged and counted, never raised to a caller.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid

log = logging.getLogger("fleet.predlog")


class PredictionLog:
    def __init__(self, store, *, root: str, model: str, version: int, sample_rate: float,
                 flush_rows: int = 1000, flush_s: float = 10.0) -> None:
        self.store = store  # an ArtifactStore
        self.prefix = f"{root.rstrip('/')}/predictions/{model}/v{version}"
        self.model, self.version = model, version
        self.sample_rate = sample_rate
        self.flush_rows, self.flush_s = flush_rows, flush_s
        self.replica = uuid.uuid4().hex[:8]
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._last_flush = time.monotonic()
        self.failed_writes = 0
        self._stop = threading.Event()
        if sample_rate > 0:
            threading.Thread(target=self._timer, daemon=True, name="predlog").start()

    def add(self, instances: list[dict], predictions: list[dict], latency_s: float,
            request_id: str | None = None) -> None:
        """Sample rows of one answer; each keeps the answer's request id and its index in
        the request, which is how a label sent back later finds it."""
        if self.sample_rate <= 0:
            return
        now = time.time()
        picked = [{"at": now, "model": self.model, "version": self.version,
                   "latency_ms": round(latency_s * 1000, 3), "request_id": request_id,
                   "row": i, "input": x, "output": y}
                  for i, (x, y) in enumerate(zip(instances, predictions, strict=True))
                  if self.sample_rate >= 1 or random.random() < self.sample_rate]
        if not picked:
            return
        with self._lock:
            self._rows.extend(picked)
            full = len(self._rows) >= self.flush_rows
        if full:
            threading.Thread(target=self.flush, daemon=True).start()

    def _timer(self) -> None:
        while not self._stop.wait(min(1.0, self.flush_s)):
            if time.monotonic() - self._last_flush >= self.flush_s:
                self.flush()

    def flush(self) -> str | None:
        with self._lock:
            rows, self._rows = self._rows, []
            self._last_flush = time.monotonic()
            if not rows:
                return None
            self._seq += 1
            seq = self._seq
        day = time.strftime("%Y-%m-%d", time.gmtime(rows[0]["at"]))
        uri = f"{self.prefix}/{day}/{self.replica}-{seq:06d}.jsonl"
        data = "".join(json.dumps(r, default=float) + "\n" for r in rows).encode()
        try:
            self.store.put_bytes(data, uri)
            return uri
        except Exception:
            self.failed_writes += 1
            log.exception("prediction log write to %s failed; %d rows lost", uri, len(rows))
            return None

    def close(self) -> None:
        self._stop.set()
        self.flush()
