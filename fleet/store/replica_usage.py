"""Replica-seconds per served version: what an endpoint's versions held while they ran.

The supervisor that holds the store's lease samples Serve every sweep (fleet.runtime.replicas)
and adds, per version app, its running replicas times the seconds since the last sample,
into an hourly row: so `--since` works to the hour, and the table grows by one row per
version per hour, not per sample. Only the lease holder samples, so two clusters on one
store never count the same replicas twice.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select, update

from fleet.store.engine import Engines
from fleet.store.schema import replica_usage as U

HOUR = 3600


class ReplicaUsageRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def add(self, samples: list[dict], seconds: float, at: float) -> None:
        """Add `seconds` of each sample's replicas ({app, model, version, replicas, cpus,
        gpus}: cpus/gpus per replica) to the hour of `at`, in one transaction."""
        hour = int(at // HOUR * HOUR)
        with self._e.write.begin() as conn:
            for s in samples:
                rs = s["replicas"] * seconds
                add = {"replica_s": U.c.replica_s + rs, "cpu_s": U.c.cpu_s + rs * s["cpus"],
                       "gpu_s": U.c.gpu_s + rs * s["gpus"]}
                done = conn.execute(update(U).where(U.c.app == s["app"], U.c.hour == hour)
                                    .values(**add)).rowcount
                if not done:
                    conn.execute(insert(U).values(
                        app=s["app"], hour=hour, model=s["model"], version=s["version"],
                        replica_s=rs, cpu_s=rs * s["cpus"], gpu_s=rs * s["gpus"]))

    def usage(self, since: float | None = None) -> list[dict]:
        """Per model version, largest CPU-seconds first; `since` counts whole hours (the
        hour that holds it included)."""
        q = (select(U.c.model, U.c.version, func.sum(U.c.replica_s).label("replica_s"),
                    func.sum(U.c.cpu_s).label("cpu_s"), func.sum(U.c.gpu_s).label("gpu_s"))
             .group_by(U.c.model, U.c.version).order_by(func.sum(U.c.cpu_s).desc()))
        if since is not None:
            q = q.where(U.c.hour >= int(since // HOUR * HOUR))
        with self._e.read.connect() as conn:
            return [{"model": r.model, "version": int(r.version),
                     "replica_s": float(r.replica_s), "cpu_s": float(r.cpu_s),
                     "gpu_s": float(r.gpu_s)} for r in conn.execute(q)]


__all__ = ["ReplicaUsageRepo"]
