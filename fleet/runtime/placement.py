"""Can any node of the cluster ever run a function? (Pure, so it is tested without Ray.)

Ray queues a task that asks for more than every node has and waits forever (the
autoscaler may add such a node). Fleet answers at once instead: a function with gpus=1 on a
CPU-only cluster fails with a message naming what it asked and what the largest node has.
"""

from __future__ import annotations

from fleet import messages

MiB = 1024 * 1024


def asked_resources(spec) -> dict[str, float]:
    """The resources a function's task asks Ray for, in Ray's names."""
    asked = {"CPU": float(spec.cpus or 0), "GPU": float(spec.gpus or 0)}
    if spec.memory_mb:
        asked["memory"] = float(spec.memory_mb * MiB)
    return {k: v for k, v in asked.items() if v > 0}


def _fmt(resources: dict[str, float]) -> str:
    parts = []
    for k, v in resources.items():
        if k == "memory":
            parts.append(f"{v / MiB:,.0f} MiB memory")
        else:
            parts.append(f"{v:g} {k}")
    return ", ".join(parts) or "nothing"


def unschedulable(asked: dict[str, float], nodes: list[dict[str, float]]) -> str | None:
    """None when some node has all of `asked`; else the message that says why not.

    `nodes` are the total resources of each alive node (what it has, not what is free now:
    a busy node frees up, a missing GPU never appears). No nodes known: no verdict."""
    if not asked or not nodes:
        return None
    if any(all(node.get(k, 0.0) >= v for k, v in asked.items()) for node in nodes):
        return None
    largest = max(nodes, key=lambda n: tuple(n.get(k, 0.0) for k in asked))
    return messages.UNSCHEDULABLE.format(
        asked=_fmt(asked), largest=_fmt({k: largest.get(k, 0.0) for k in asked}))


__all__ = ["asked_resources", "unschedulable"]
