"""What invocations cost: the resource-seconds each held (its function's declared CPUs and
GPUs times its run time, recorded with the invocation), summed per function or caller over
a period, and turned into money when `usage:` prices are configured. Modal shows cost per
function; so does Fleet, from the same records every entry point writes. Served versions
count too: their replica-seconds (fleet.runtime.replicas), per model version."""

from __future__ import annotations

import time
from typing import Any

from fleet import messages
from fleet.config import Settings
from fleet.durations import parse_duration
from fleet.errors import FieldProblem, InvalidInput
from fleet.identity import Identity

GROUPS = ("function", "caller")


def usage_report(store, settings: Settings, *, by: str = "function", since: str = "30d"
                 ) -> dict[str, Any]:
    """{"by", "since", "currency", "rows": [{function|caller, invocations, run_s, cpu_s,
    gpu_s, cost}], "total": {...}}; bad `by` or `since` is a clear error naming it."""
    if by not in GROUPS:
        raise InvalidInput(messages.USAGE_BAD_BY.format(by=by), [FieldProblem(
            "by", "unknown grouping", "Use function or caller.")])
    start = time.time() - parse_duration(since, "since")
    prices = settings.usage
    rows = store.invocations.usage(by=by, since=start)
    total = {"invocations": 0, "run_s": 0.0, "cpu_s": 0.0, "gpu_s": 0.0}
    for r in rows:
        r["cost"] = prices.cost(r["cpu_s"], r["gpu_s"])
        for k in total:
            total[k] += r[k]
    total["cost"] = prices.cost(total["cpu_s"], total["gpu_s"])
    serving = store.replica_usage.usage(since=start)
    for r in serving:
        r["cost"] = prices.cost(r["cpu_s"], r["gpu_s"])
    currency = prices.currency if total["cost"] is not None else None
    return {"by": by, "since": since, "since_ts": start, "currency": currency, "rows": rows,
            "total": total, "serving": serving}


class Usage:
    """The usage report as a service (the read scope), for the gateway and `fleet usage`."""

    def __init__(self, store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def report(self, who: Identity, *, by: str = "function", since: str = "30d"
               ) -> dict[str, Any]:
        who.require("read")
        return usage_report(self.store, self.settings, by=by, since=since)


__all__ = ["GROUPS", "Usage", "usage_report"]
