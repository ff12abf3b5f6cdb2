"""The garbage collector's settings for the supervisor, the process that serves the gateway.

bench/gateway's spawn at c=16 ran at 770-840 records/s with a p99 near 340 ms while the
supervisor's GIL was busy only 70% of the time. The pauses were CPython's cyclic collector:
at the default thresholds (700, 10, 10) an invocation's few hundred allocations started a
young collection every millisecond or so, and every hundredth one a full pass over the
whole heap (Ray, FastAPI, SQLAlchemy and pydantic: about a million objects, tens of ms)
that stopped the event loop and every request on it.

`settle` runs once the process holds what it keeps for its life: it moves those objects
out of the collector's sight (`gc.freeze`) and lets the young generation grow to 50,000
allocations before a pass. Short-lived cycles (a failed request's traceback) are still
found by the young passes; only the full pass becomes rare. Measured with wrk driving
spawn at c=16 on 2 cores: 1,150-1,310 records/s and a p99 of 35-40 ms after, against 770-840
and 340 ms before. docs/architecture.md has the bench figures.
"""

from __future__ import annotations

import gc

YOUNG = 50_000  # allocations between young passes (CPython's default is 700)
MIDDLE = 20  # young passes per middle pass (default 10)
OLD = 100  # middle passes per full pass (default 10)


def settle() -> None:
    """Collect once, freeze what survives, and space the passes out."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)


__all__ = ["settle"]
