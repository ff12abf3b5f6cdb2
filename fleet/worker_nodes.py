"""Local worker nodes for `fleet up --workers N`: a multi-node Ray cluster on one machine.

Each worker node is its own `ray start --address=HEAD --block` (its own raylet, object store
and workers), so what breaks across nodes (state one node cannot see, actors placed on the
wrong node, a node dying mid-run) shows up on a laptop and in CI, not first in production.
Every node gets its own free ports; SIGTERM to its `ray start` stops exactly that node, and
SIGKILL to its process group is a node dying.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess

from fleet import messages
from fleet.cluster import ClusterInfo
from fleet.config import Settings
from fleet.errors import RayStartTimedOut, Unavailable
from fleet.ports import RAY_PORT_FLAGS, free_block, free_port, port_open
from fleet.processes import alive, startup_timed_out, terminate, wait_until
from fleet.ray_paths import ray_command

HEAD_ONLY_FLAGS = ("ray-client-server-port",)
WORKER_PORTS_PER_NODE = 200
# Ray sizes each node's object store at 30% of the machine's memory; local nodes share one
# machine, so each worker node gets this much (bytes) instead.
OBJECT_STORE_BYTES = 1 << 30
WORKER_LABEL = "fleet.io/node"  # worker-1, worker-2, ...: a label tests and users select by


def node_ports(settings: Settings, index: int,
               taken: tuple[tuple[int, int], ...] = ()) -> dict[str, int]:
    """Free ports for worker node `index` (1-based): one per `ray start` flag, and a block
    for its worker processes outside `taken` (the head's and other nodes' blocks, which
    are only bound once their workers start)."""
    out = {flag: free_port() for flag in RAY_PORT_FLAGS if flag not in HEAD_ONLY_FLAGS}
    first, last = free_block(settings.home / f"worker-{index}", WORKER_PORTS_PER_NODE,
                             avoid=taken)
    out["min-worker-port"], out["max-worker-port"] = first, last
    return out


def node_cpus(settings: Settings) -> int:
    """Each local worker node declares as many CPUs as the head (they share the machine)."""
    return settings.cluster.num_cpus or os.cpu_count() or 1


def ensure(settings: Settings, info: ClusterInfo, want: int, env: dict[str, str],
           temp_dir: str, progress) -> ClusterInfo:
    """Start local worker nodes until `want` of them run (those still alive stay): `info`
    with their pids. New nodes' worker ports stay clear of the head's."""

    running = [pid for pid in (info.worker_pids or []) if alive(pid)]
    if len(running) >= want:
        return info
    head = info.ports or {}
    taken = ((head["min-worker-port"], head["max-worker-port"]),) \
        if "min-worker-port" in head else ()
    started = start(settings, info.address, temp_dir, range(len(running) + 1, want + 1),
                    env, progress, taken)
    return dataclasses.replace(info, worker_pids=running + [pid for pid, _ in started])


def start(settings: Settings, head_address: str, temp_dir: str, indices: range,
          env: dict[str, str], progress, taken: tuple[tuple[int, int], ...] = ()
          ) -> list[tuple[int, dict[str, int]]]:
    """Start worker nodes `indices` (1-based) joined to `head_address`, one after another
    (at once, on a small machine their raylets missed Ray's own 30 s start-up limit); (pid,
    ports) of each. If one fails, those started here are stopped again: nothing is left
    running that cluster.json does not name."""
    started: list[tuple[int, dict[str, int]]] = []
    try:
        for index in indices:
            progress(f"starting worker node {index} of {indices[-1]}")
            taken += tuple((p["min-worker-port"], p["max-worker-port"]) for _, p in started)
            try:
                started.append(_start_one(settings, head_address, temp_dir, index, env,
                                          taken))
            except RayStartTimedOut:
                progress(messages.RAY_START_RETRY)
                started.append(_start_one(settings, head_address, temp_dir, index, env,
                                          taken))
    except BaseException:
        for pid, _ports in started:
            stop(pid)
        raise
    return started


def _start_one(settings: Settings, head_address: str, temp_dir: str, index: int,
               env: dict[str, str], taken: tuple[tuple[int, int], ...]
               ) -> tuple[int, dict[str, int]]:

    log_path = settings.home / "logs" / f"ray-worker-{index}.log"
    ports = node_ports(settings, index, taken)
    cmd = [*ray_command("start", f"--address={head_address}", "--block"),
           "--disable-usage-stats", f"--temp-dir={temp_dir}",
           f"--num-cpus={node_cpus(settings)}", f"--labels={WORKER_LABEL}=worker-{index}",
           f"--object-store-memory={OBJECT_STORE_BYTES}",
           *(f"--{flag}={port}" for flag, port in ports.items())]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def ready() -> bool:
        if proc.poll() is not None:
            failed = RayStartTimedOut if startup_timed_out(log_path) else Unavailable
            raise failed(messages.RAY_EXITED.format(code=proc.returncode, log=log_path))
        return (port_open("127.0.0.1", ports["node-manager-port"])
                and port_open("127.0.0.1", ports["dashboard-agent-listen-port"]))

    try:
        wait_until(ready, 120, f"Worker node {index}")
    except BaseException:
        stop(proc.pid)
        raise
    return proc.pid, ports


def stop(pid: int) -> None:
    """Stop one worker node: SIGTERM to its `ray start`, then SIGKILL to what is left."""

    terminate(pid, 15)


__all__ = ["WORKER_LABEL", "ensure", "node_cpus", "node_ports", "start", "stop"]
