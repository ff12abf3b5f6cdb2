"""The ports an installation opens: configured, or chosen free at `fleet up`.

Ray's defaults are fixed numbers (52365 for the dashboard agent, 8076 for the object manager,
10002-19999 for workers, ...). Two installations on one machine (`make demo` left running,
then `make test`) then fought over them, and the loser's job agent never came up: every
`ray job submit` answered "No available agent". Fleet passes every port explicitly and
records them in run/cluster.json.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

# flag of `ray start` -> ClusterConfig field
RAY_PORT_FLAGS = {
    "node-manager-port": "node_manager_port",
    "object-manager-port": "object_manager_port",
    "metrics-export-port": "metrics_export_port",
    "dashboard-agent-listen-port": "dashboard_agent_listen_port",
    "dashboard-agent-grpc-port": "dashboard_agent_grpc_port",
    "runtime-env-agent-port": "runtime_env_agent_port",
    "ray-client-server-port": "ray_client_server_port",
}
WORKER_RANGE = (10002, 19999)


def port_open(host: str, port: int) -> bool:
    """Something listens on host:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port nothing holds now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def free_block(home: Path, count: int,
               avoid: tuple[tuple[int, int], ...] = ()) -> tuple[int, int]:
    """A block of `count` ports in Ray's worker range that nothing holds now, outside the
    (first, last) ranges in `avoid` (blocks other nodes chose, not yet bound).

    The search starts at a block derived from FLEET_HOME, so two installations usually
    start apart and each keeps the same block across restarts."""
    lo, hi = WORKER_RANGE
    blocks = (hi - lo + 1) // count
    start = int(hashlib.sha256(str(home).encode()).hexdigest(), 16) % blocks
    for i in range(blocks):
        first = lo + ((start + i) % blocks) * count
        last = first + count - 1
        if any(first <= b and a <= last for a, b in avoid):
            continue
        if all(_bindable(p) for p in range(first, first + count)):
            return first, last
    raise OSError(f"no free block of {count} ports in {lo}-{hi}")


def ray_ports(settings) -> dict[str, int]:
    """Each `ray start` port flag with its port: the configured one, else a free one."""
    c = settings.cluster
    chosen: set[int] = {c.gcs_port, c.dashboard_port}
    out: dict[str, int] = {}
    for flag, field in RAY_PORT_FLAGS.items():
        port = getattr(c, field)
        while port is None or (getattr(c, field) is None and port in chosen):
            port = free_port()
        chosen.add(port)
        out[flag] = port
    if c.worker_ports:
        first, last = (int(x) for x in c.worker_ports.split("-"))
    else:
        first, last = free_block(settings.home, c.worker_port_count)
    out["min-worker-port"], out["max-worker-port"] = first, last
    return out


__all__ = ["RAY_PORT_FLAGS", "free_block", "free_port", "port_open", "ray_ports"]
