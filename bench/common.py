"""What every benchmark needs: a Fleet of its own on free ports, and result files."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from fleet.ray_paths import short_dir

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_fleet(store_url: str | None = None, tag: str = "",
                data_roots: tuple[Path, ...] = (), apps: bool = False,
                routers: int | None = None, gateways: int | None = None) -> Path:
    """`fleet up` under .tmp/bench-<pid> with free ports; returns FLEET_HOME. Requests may
    read and write under .tmp/bench-data, .tmp/bench-out and `data_roots`. Without `apps`
    the LLM and RAG apps stay off: they would load models beside what a bench measures.
    `routers`, `gateways`: how many router and gateway instances share their port
    (default: Fleet's)."""
    home = ROOT / ".tmp" / f"bench-{os.getpid()}{tag}"
    home.mkdir(parents=True, exist_ok=True)
    store = f"store_url: '{store_url}'\n" if store_url else ""
    roots = [str(ROOT / ".tmp" / d) for d in ("bench-data", "bench-out")]
    roots += [str(p) for p in data_roots]
    (home / "fleet.yaml").write_text(
        store + f"data_roots: {roots!r}\n" +
        f"tokens:\n  - {{name: bench, token: {TOKEN}, scopes: [admin]}}\n"
        f"gateway: {{port: {free_port()}"
        f"{f', instances: {gateways}' if gateways else ''}}}\n"
        f"cluster: {{num_cpus: 2, gcs_port: {free_port()}, dashboard_port: {free_port()}}}\n"
        f"serving: {{serve_port: {free_port()}, router_port: {free_port()}"
        f"{'' if apps else ', apps: []'}{f', routers: {routers}' if routers else ''}}}\n"
        f"llm: {{cache_dir: '{ROOT / '.tmp' / 'models'}'}}\n")
    os.environ["FLEET_HOME"] = str(home)
    os.environ.setdefault("RAY_TMPDIR", short_dir("b", ROOT))  # short: see fleet.ray_paths
    from fleet import config, lifecycle

    config.clear_cache()

    lifecycle.up(home, progress=lambda m: print(f"  … {m}", flush=True))
    return home


def stop_fleet() -> None:
    """`fleet down`, and forget this process's connection and stores (a bench may start
    another Fleet after this one)."""
    import ray

    from fleet import lifecycle
    from fleet.store import close_all

    if ray.is_initialized():
        ray.shutdown()
    lifecycle.down()
    close_all()


def _cpu_ticks() -> tuple[int, int]:
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def quiet(busy_below: float = 0.25, window_s: float = 1.0, max_s: float = 20.0) -> float:
    """Wait until the machine's CPUs are mostly idle (a measurement before has left Ray
    starting or reaping workers, which the next one would pay for); returns seconds waited."""
    import time

    start = time.monotonic()
    while time.monotonic() - start < max_s:
        b0, t0 = _cpu_ticks()
        time.sleep(window_s)
        b1, t1 = _cpu_ticks()
        if t1 > t0 and (b1 - b0) / (t1 - t0) < busy_below:
            break
    return time.monotonic() - start


def write_result(name: str, data: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    print(f"\nwritten to {path}")
    return path


def each_store(labels: str, run) -> dict:
    """`run(label, store_url)` for each of "sqlite,postgres" (None: SQLite under FLEET_HOME;
    PostgreSQL started here on 127.0.0.1, skipped without its binaries)."""
    import sys

    out: dict = {}
    for label in labels.split(","):
        if label == "sqlite":
            out[label] = run(label, None)
        elif label == "postgres":
            sys.path.insert(0, str(ROOT))
            from tests.support.postgres import PostgresServer

            pg = PostgresServer(ROOT / ".tmp" / f"bench-pg-{os.getpid()}")
            if not pg.available:
                print("PostgreSQL binaries not found; skipping (apt-get install postgresql)")
                continue
            url = pg.start()
            try:
                out[label] = run(label, url)
            finally:
                pg.stop()
    return out


def deploy_small_model(client, table, experiment: str, endpoint: str) -> dict:
    """Train a one-epoch model on `table` and deploy it behind `endpoint` (one replica of
    0.5 CPU, no prediction logging, 128 requests at once); the deploy's result (its
    `app`, `version_url`, ...)."""
    inv = client.invoke("train", {"data": str(table), "features": ["age", "income"],
                                  "label": "churned", "epochs": 1, "num_workers": 1,
                                  "experiment": experiment})
    assert inv.status.value == "succeeded", inv.error_message
    dep = client.invoke("deploy", {"model": f"{experiment}:{inv.result['version']}",
                                   "endpoint": endpoint,
                                   "serving": {"num_cpus": 0.5, "log_sample_rate": 0,
                                               "max_ongoing_requests": 128}})
    assert dep.status.value == "succeeded", dep.error_message
    return dep.result
