"""Function workers started before the first burst needs them.

Workers belong to the supervisor's job and runtime env, so function tasks reuse them. Ray
starts at most one worker per CPU at a time, ~1 s each here; a first burst of 16 callers
otherwise waited seconds on worker start-ups (bench/gateway's p99)."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import ray

log = logging.getLogger("fleet.supervisor")
PRESTART_MAX = 16


def _warm(seconds: float) -> int:
    """Hold a worker briefly, so that many start at once; their imports stay loaded."""
    time.sleep(seconds)
    return os.getpid()


_remote_warm = ray.remote(num_cpus=0.01, max_retries=0)(_warm)


async def prestart(settings, primary: bool) -> None:
    """Start `cluster.warm_workers` workers (at most PRESTART_MAX), on the primary
    instance only: the instances share the server job's workers, so start them once."""
    if not primary:
        return
    n = min(settings.cluster.warm_workers, PRESTART_MAX)
    try:
        await asyncio.gather(*[_remote_warm.remote(2.0) for _ in range(n)])
    except Exception:  # only a head start; functions run without it
        log.exception("prestarting workers failed")
