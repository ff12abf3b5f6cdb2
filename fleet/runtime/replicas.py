"""Replica-seconds: the supervisor that holds the store's lease samples Serve each sweep
and records what every version app ran (fleet.store.replica_usage).

A sample counts the RUNNING replicas of each app the store knows as a model version
(the deployments table), with the CPUs and GPUs each replica declared when it was
deployed. Between samples the count is assumed constant: with a 5 s sweep, a replica's
time is known to within a few seconds, plenty for cost.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("fleet.runtime.replicas")
MAX_GAP_S = 30.0  # a longer gap (store down, lease just taken) counts only this much


def running_replicas(deployments: dict[str, dict]) -> list[dict]:
    """{app, model, version, replicas, cpus, gpus} for each version app with replicas up."""
    import ray
    from ray import serve

    if not ray.is_initialized():  # serve.status() would start a Ray of its own
        return []
    apps = serve.status().applications
    out = []
    for app, dep in deployments.items():
        status = apps.get(app)
        if status is None:
            continue
        replicas = sum(int(d.replica_states.get("RUNNING", 0))
                       for d in status.deployments.values())
        if replicas:
            opts = dep.get("options") or {}
            out.append({"app": app, "model": dep["model"], "version": int(dep["version"]),
                        "replicas": replicas, "cpus": float(opts.get("num_cpus", 0.25)),
                        "gpus": float(opts.get("num_gpus", 0.0))})
    return out


class ReplicaSampler:
    """Adds each sweep's replica-seconds to the store; the first sample only starts the
    clock."""

    def __init__(self, store) -> None:
        self.store = store
        self.last: float | None = None

    def restart_clock(self) -> None:
        """Forget the last sample: time before now (another holder's) is not ours."""
        self.last = None

    def sample(self) -> int:
        """Record one sample; the number of version apps that had replicas."""
        now = time.time()
        samples = running_replicas(self.store.endpoints.deployments())
        last, self.last = self.last, now
        if last is None or not samples:
            return len(samples)
        self.store.replica_usage.add(samples, min(now - last, MAX_GAP_S), now)
        return len(samples)


__all__ = ["ReplicaSampler", "running_replicas"]
