"""Run tracking: params, per-step metrics, data fingerprint, code version, artifacts."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from fleet import messages
from fleet.errors import NotFound
from fleet.store import audit
from fleet.store.engine import Engines
from fleet.store.ids import find_row
from fleet.store.schema import run_metrics as M
from fleet.store.schema import runs as T


@dataclass(frozen=True)
class Run:
    id: str
    experiment: str
    function: str
    invocation_id: str | None
    status: str
    params: dict
    data_uri: str | None
    data_fingerprint: str | None
    code_version: str | None
    checkpoint_uri: str | None
    artifacts: dict
    summary: dict
    error: str | None
    created_at: float
    finished_at: float | None

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def new_run_id() -> str:
    return f"run_{uuid.uuid4().hex[:20]}"


class RunRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def start(self, *, experiment: str, function: str, params: dict,
              run_id: str | None = None, invocation_id: str | None = None,
              data_uri: str | None = None, data_fingerprint: str | None = None,
              code_version: str | None = None) -> Run:
        """Create a run, or re-open a stopped/failed one with the same id (resume)."""
        run_id = run_id or new_run_id()
        with self._e.write.begin() as conn:
            row = conn.execute(select(T.c.id).where(T.c.id == run_id)).first()
            if row is None:
                conn.execute(insert(T).values(
                    id=run_id, experiment=experiment, function=function,
                    invocation_id=invocation_id, status="running", params=params,
                    data_uri=data_uri, data_fingerprint=data_fingerprint,
                    code_version=code_version, artifacts={}, summary={},
                    created_at=time.time()))
            else:
                conn.execute(update(T).where(T.c.id == run_id).values(
                    status="running", error=None, finished_at=None,
                    invocation_id=invocation_id))
        return self.get(run_id)

    def record_attempt(self, run_id: str, *, from_epoch: int, world_size: int,
                       actor: str) -> None:
        """An attempt of the run starts (a retried one from its last checkpoint): audited."""
        with self._e.write.begin() as conn:
            audit.record(conn, actor=actor, action="run.start", target=run_id,
                         detail={"from_epoch": from_epoch, "world_size": world_size})

    def log_metrics(self, run_id: str, step: int, metrics: dict[str, float]) -> None:
        """Record metrics for a step; a repeated step (after a resume) replaces its values."""
        now = time.time()
        with self._e.write.begin() as conn:
            conn.execute(M.delete().where(M.c.run_id == run_id, M.c.step == step))
            if metrics:
                conn.execute(insert(M), [dict(run_id=run_id, step=step, key=k,
                                              value=float(v), at=now)
                                         for k, v in metrics.items()])
            conn.execute(update(T).where(T.c.id == run_id).values(
                summary={**metrics, "step": step}))

    def set_checkpoint(self, run_id: str, uri: str) -> None:
        with self._e.write.begin() as conn:
            conn.execute(update(T).where(T.c.id == run_id).values(checkpoint_uri=uri))

    def finish(self, run_id: str, status: str, *, error: str | None = None,
               artifacts: dict | None = None) -> Run:
        values: dict = dict(status=status, error=error, finished_at=time.time())
        if artifacts is not None:
            values["artifacts"] = artifacts
        with self._e.write.begin() as conn:
            conn.execute(update(T).where(T.c.id == run_id).values(**values))
        return self.get(run_id)

    def get(self, run_id: str) -> Run:
        """By id, or by a unique prefix of one."""
        with self._e.read.connect() as conn:
            r = find_row(conn, T, T.c.id, run_id, "run")
        if r is None:
            raise NotFound(messages.UNKNOWN_RUN.format(id=run_id))
        return Run(**dict(r._mapping))

    def of_invocation(self, invocation_id: str) -> Run | None:
        """The run an invocation last opened: an attempt that starts again after its worker
        process died finds the run the attempt before it left, and resumes it."""
        q = (select(T).where(T.c.invocation_id == invocation_id)
             .order_by(T.c.created_at.desc()).limit(1))
        with self._e.read.connect() as conn:
            r = conn.execute(q).first()
        return Run(**dict(r._mapping)) if r is not None else None

    def list(self, *, experiment: str | None = None, limit: int = 50) -> list[Run]:
        q = select(T).order_by(T.c.created_at.desc()).limit(limit)
        if experiment:
            q = q.where(T.c.experiment == experiment)
        with self._e.read.connect() as conn:
            return [Run(**dict(r._mapping)) for r in conn.execute(q)]

    def metrics(self, run_id: str) -> dict[int, dict[str, float]]:
        """step -> {key: value}, steps ascending."""
        q = select(M.c.step, M.c.key, M.c.value).where(M.c.run_id == run_id).order_by(M.c.step)
        out: dict[int, dict[str, float]] = {}
        with self._e.read.connect() as conn:
            for step, key, value in conn.execute(q):
                out.setdefault(step, {})[key] = value
        return out

    def compare(self, run_ids: list[str]) -> list[dict[str, Any]]:
        """Params and final metrics side by side, for `fleet runs --compare`."""
        rows = []
        for rid in run_ids:
            run = self.get(rid)
            steps = self.metrics(rid)
            last = steps[max(steps)] if steps else {}
            rows.append({"run": rid, "status": run.status, **{f"param.{k}": v for k, v in
                         run.params.items()}, **{f"metric.{k}": v for k, v in last.items()}})
        return rows
