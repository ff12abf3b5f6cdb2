"""Where the Ray cluster is, and how every Fleet process connects to it.

`fleet up` writes FLEET_HOME/run/cluster.json; every other process reads it. Inside a Ray
worker or a job driver, Ray's own context is used instead.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from fleet import messages
from fleet.config import Settings
from fleet.errors import Unavailable

NAMESPACE = "fleet"
_lock = threading.Lock()


@dataclass(frozen=True)
class ClusterInfo:
    address: str  # GCS address, host:port
    dashboard_url: str
    token_auth: bool
    ray_pid: int | None = None
    gateway_url: str | None = None
    gateway_pid: int | None = None
    # Every port this installation opened (Ray's, the gateway's, Serve's, the router's), so
    # an operator can see them and a second installation can avoid them.
    ports: dict | None = None
    ray_temp_dir: str | None = None
    # `fleet up --workers N`: the `ray start` process of each local worker node.
    worker_pids: list[int] | None = None
    # `fleet up --address`: a cluster Fleet did not start (and `fleet down` leaves running).
    attached: bool = False

    @classmethod
    def read(cls, settings: Settings) -> ClusterInfo | None:
        path = info_path(settings)
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            return None

    def write(self, settings: Settings) -> None:
        path = info_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


def info_path(settings: Settings) -> Path:
    return settings.run_dir / "cluster.json"


def use_token_auth() -> None:
    """Turn on Ray token auth in this process (token auth is on for `fleet up`).

    Ray caches RAY_AUTH_MODE in its RayConfig when it is first imported; if ray is already
    imported, refresh that cache the way Ray's own token setup does."""
    os.environ["RAY_AUTH_MODE"] = "token"
    if "ray" in sys.modules:
        from ray._private.authentication.authentication_token_setup import _enable_token_auth

        _enable_token_auth()


def prepare_auth(settings: Settings) -> ClusterInfo | None:
    """Turn on Ray token auth for this process if the cluster uses it."""
    info = ClusterInfo.read(settings)
    if info is not None and info.token_auth:
        use_token_auth()
    return info


def connect(settings: Settings, discover: bool = False) -> None:
    """Connect this process to Fleet's Ray cluster once (a no-op inside Ray).

    `discover`: with no RAY_ADDRESS and no run/cluster.json, join the Ray head running on
    this machine ("auto"): the Fleet server started in a KubeRay head container, where no
    `fleet up` ran. Clients never guess, or they might reach another installation's Ray."""
    info = prepare_auth(settings)
    import ray

    if ray.is_initialized():
        return
    with _lock:
        if ray.is_initialized():
            return
        address = os.environ.get("RAY_ADDRESS") or (info.address if info else None)
        if address is None and discover:
            address = "auto"
        if address is None:
            raise Unavailable(messages.CLUSTER_UNAVAILABLE.format(detail=""))
        try:
            ray.init(address=address, namespace=NAMESPACE, logging_level=logging.WARNING,
                     log_to_driver=False, configure_logging=False)
        except Exception as exc:
            raise Unavailable(messages.CLUSTER_UNAVAILABLE.format(
                detail=f" at {address} ({type(exc).__name__})")) from None
