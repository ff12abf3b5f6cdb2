"""What a Ray cluster of more than one node asks of Fleet.

Every node runs Fleet's code against the same settings (fleet.config), so the state they
share must be reachable from every node: a PostgreSQL store rather than a SQLite file, and
artifacts on S3 or on a file:// root that the config declares shared. On one node both are
fine. Checked when the server starts and when `fleet up --workers` is asked for, so a
worker never writes to a database of its own that nobody reads (the old failure: its
invocation was never found, and the sweeper resubmitted it forever).

The control actors (supervisor, scheduler, router) are pinned to the head node: their
ports are the ones `fleet up` health-checks and the ones KubeRay's head Service exposes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fleet import messages
from fleet.config import Settings
from fleet.errors import DefinitionError

# Ray gives the head node this resource (1.0); asking for a sliver of it pins an actor there.
HEAD_RESOURCE = "node:__internal_head__"


def shared_state_problem(settings: Settings, nodes: int) -> str | None:
    """Why `nodes` nodes cannot share this installation's state, or None when they can."""
    if nodes <= 1:
        return None
    url = settings.resolved_store_url
    if url.startswith("sqlite"):
        return messages.MULTI_NODE_STORE.format(nodes=nodes, where=url.split("///", 1)[-1])
    root = settings.artifact_root
    if urlsplit(root).scheme in ("", "file") and not settings.artifacts.shared:
        return messages.MULTI_NODE_ARTIFACTS.format(nodes=nodes, root=root)
    return None


def require_shared_state(settings: Settings, nodes: int) -> None:
    """Refuse (DefinitionError, a clear message) what `shared_state_problem` finds."""
    problem = shared_state_problem(settings, nodes)
    if problem is not None:
        raise DefinitionError(problem)


def alive_nodes() -> list[dict]:
    """The cluster's live nodes, as `ray.nodes()` lists them."""
    import ray

    return [n for n in ray.nodes() if n.get("Alive")]


def on_head() -> dict:
    """Ray options that place an actor on the head node."""
    return {"resources": {HEAD_RESOURCE: 0.001}}


__all__ = ["HEAD_RESOURCE", "alive_nodes", "on_head", "require_shared_state",
           "shared_state_problem"]
