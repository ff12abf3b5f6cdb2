"""`fleet up` / `fleet down` / `fleet status`: a local Ray head, the actors and the gateway.

The Ray head runs as `ray start --head --block` in its own session; SIGTERM to that one
process drains and stops exactly the processes it started (unlike `ray stop`, which kills
every Ray process on the machine). Token auth is on: Ray's GCS and raylet listen on all
interfaces, and the token is their guard.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from fleet import config as config_mod
from fleet import messages, ray_causes
from fleet.addresses import http_url
from fleet.cluster import ClusterInfo
from fleet.config import Settings, fleet_env
from fleet.errors import DefinitionError, RayStartTimedOut, Unavailable
from fleet.multinode import require_shared_state
from fleet.ports import port_open, ray_ports
from fleet.processes import alive, log_tail, startup_timed_out, terminate, wait_until
from fleet.ray_paths import check_temp_dir, python_for_ray, ray_command, temp_base, temp_dir

Progress = Callable[[str], None]
SERVER_REFUSAL = "fleet server refused to start:"  # fleet.server prints this, then why


def _noop(_msg: str) -> None:
    pass


ADMIN_TOKEN_FILE = "admin.token"


def admin_token_path(settings: Settings) -> Path:
    return settings.home / ADMIN_TOKEN_FILE


def ensure_config(home: Path) -> Settings:
    """Create FLEET_HOME and a fleet.yaml on first use. The admin token goes to its own file
    (mode 0600, never printed); fleet.yaml keeps only its SHA-256."""
    from fleet.store import token_hash

    home.mkdir(parents=True, exist_ok=True)
    path = home / config_mod.CONFIG_FILE
    if not path.exists():
        token = "flt_" + secrets.token_urlsafe(32)
        secret = home / ADMIN_TOKEN_FILE
        secret.touch(mode=0o600)
        secret.write_text(token + "\n")
        data = {"tokens": [{"name": "admin", "token_sha256": token_hash(token),
                            "scopes": ["read", "invoke", "admin"]}]}
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    config_mod.clear_cache()
    return config_mod.load_settings(home)


def admin_token(settings: Settings) -> str | None:
    """The local admin token: admin.token, or a plain admin token in an older fleet.yaml."""
    path = admin_token_path(settings)
    if path.exists():
        return path.read_text().strip()
    for t in settings.tokens:
        if "admin" in t.scopes and t.token is not None:
            return t.token.get_secret_value()
    return None


def _health(url: str, timeout: float = 2) -> dict | None:
    """The /healthz answer of the server at `url`, or None when it does not answer 200."""
    try:
        r = httpx.get(f"{url}/healthz", timeout=timeout)
        return r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _healthy(url: str) -> bool:
    return _health(url) is not None


def _routers_up(url: str) -> int:
    """How many router instances serve (each one's /healthz counts its serving peers)."""
    health = _health(url, timeout=5)
    return 0 if health is None else int(health.get("instances", 1))


def _ray_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, **fleet_env(settings)}
    bindir = str(Path(python_for_ray()).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")  # job drivers find this python
    if settings.cluster.token_auth:
        env["RAY_AUTH_MODE"] = "token"
    # Ray runs workers at nice 15. The supervisor is a worker too and sits on every
    # invocation's path; niced below the gateway it starved under load (bench/gateway).
    env.setdefault("RAY_worker_niceness", str(settings.cluster.worker_niceness))
    return env


def _publish_address(ray_tmp: str) -> None:
    """Copy the head's address to Ray's default temp dir too, so `ray status` and a plain
    `ray.init()` on this machine find the most recently started installation, as they do
    after a plain `ray start`. (Ray's job supervisor reads its own node's temp dir.)"""
    mine = Path(ray_tmp) / "ray_current_cluster"
    deadline = time.monotonic() + 15  # `ray start` writes it after the dashboard is up
    while not mine.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        address = mine.read_text()
        default = Path(temp_base()) / "ray"
        default.mkdir(parents=True, exist_ok=True)
        (default / "ray_current_cluster").write_text(address)
    except OSError:
        pass  # only a convenience for `ray status`


def _start_ray_retrying(settings: Settings, progress: Progress) -> ClusterInfo:
    try:
        return _start_ray(settings, progress)
    except RayStartTimedOut:
        progress(messages.RAY_START_RETRY)
        time.sleep(2)  # the failed start's own clean-up frees its ports
        return _start_ray(settings, progress)


def _start_ray(settings: Settings, progress: Progress) -> ClusterInfo:
    c = settings.cluster
    for port, key in ((c.gcs_port, "cluster.gcs_port"),
                      (c.dashboard_port, "cluster.dashboard_port")):
        if port_open("127.0.0.1", port):
            raise Unavailable(messages.PORT_TAKEN.format(port=port, key=key))
    env = _ray_env(settings)
    if c.token_auth:
        subprocess.run(ray_command("get-auth-token", "--generate"), env=env, check=True,
                       capture_output=True)
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ports = ray_ports(settings)
    ray_tmp = temp_dir(settings)
    check_temp_dir(ray_tmp)  # before Ray fails on it in its dashboard's log
    cmd = [*ray_command("start", "--head", "--block", f"--port={c.gcs_port}"),
           "--dashboard-host=127.0.0.1", f"--dashboard-port={c.dashboard_port}",
           "--disable-usage-stats", "--include-dashboard=true", f"--temp-dir={ray_tmp}",
           *(f"--{flag}={port}" for flag, port in ports.items())]
    if c.num_cpus is not None:
        cmd.append(f"--num-cpus={c.num_cpus}")
    # Ray keeps only num_cpus idle workers and kills the rest after 1 s; functions with
    # fractional CPUs run many at once, so keep that many warm instead of paying a Python
    # start-up per invocation (measured in bench/gateway: c=16 stalled without it).
    cmd.append("--system-config=" + json.dumps({
        "num_workers_soft_limit": c.warm_workers,
        "idle_worker_killing_time_threshold_ms": 300_000}))
    progress(f"starting a Ray head on port {c.gcs_port}")
    with open(logs / "ray.log", "ab") as log:
        since = log.tell()  # this start's own output begins here
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    dashboard = f"http://127.0.0.1:{c.dashboard_port}"

    def ready() -> bool:
        if proc.poll() is not None:
            if startup_timed_out(logs / "ray.log"):
                raise RayStartTimedOut(messages.RAY_EXITED.format(code=proc.returncode,
                                                                  log=logs / "ray.log"))
            cause = ray_causes.explain(ray_causes.logs_of(logs / "ray.log", ray_tmp, since))
            raise Unavailable(messages.RAY_EXITED_BECAUSE.format(
                code=proc.returncode, cause=cause, log=logs / "ray.log") if cause else
                messages.RAY_EXITED.format(code=proc.returncode, log=logs / "ray.log"))
        try:
            if httpx.get(f"{dashboard}/api/version", timeout=2).status_code >= 500:
                return False
        except httpx.HTTPError:
            return False
        # Job submission needs the dashboard agent; until it listens, Ray answers
        # "No available agent", so `up` returns only once it does.
        return port_open("127.0.0.1", ports["dashboard-agent-listen-port"])

    wait_until(ready, 120, "The Ray head")
    _publish_address(ray_tmp)
    return ClusterInfo(address=f"127.0.0.1:{c.gcs_port}", dashboard_url=dashboard,
                       token_auth=c.token_auth, ray_pid=proc.pid,
                       ports={"gcs": c.gcs_port, "dashboard": c.dashboard_port, **ports},
                       ray_temp_dir=ray_tmp)


def _start_server(settings: Settings, progress: Progress) -> tuple[str, int]:
    from fleet.serving import router_url

    g, s = settings.gateway, settings.serving
    url, router = http_url(g.host, g.port, g.advertise_host), router_url(settings)
    progress(f"starting the Fleet server (supervisor, scheduler, gateway on {url}, "
             f"router on {router})")
    for host, port, key in ((g.host, g.port, "gateway.port"),
                            (s.host, s.router_port, "serving.router_port")):
        if port_open(host, port):
            raise Unavailable(messages.PORT_TAKEN.format(port=port, key=key))
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)  # attached (--address): no head made it
    with open(logs / "server.log", "ab") as log:
        proc = subprocess.Popen([python_for_ray(), "-m", "fleet.server"], env=_ray_env(settings),
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)

    def ready() -> bool:
        if proc.poll() is not None:
            refusal = _server_refusal(logs / "server.log")
            if refusal:  # the server said why it would not start (fleet.server.main)
                raise DefinitionError(refusal)
            raise Unavailable(messages.SERVER_EXITED.format(code=proc.returncode,
                                                            log=logs / "server.log"))
        # the gateway and every router instance answer before `up` returns
        return _healthy(url) and _routers_up(router) >= settings.serving.routers

    wait_until(ready, 180, "The Fleet server")
    return url, proc.pid


def _server_refusal(log: Path) -> str | None:
    """The reason the server gave for refusing to start, from the end of its log."""
    for line in reversed(log_tail(log).splitlines()):
        if line.startswith(SERVER_REFUSAL):
            return line[len(SERVER_REFUSAL):].strip()
    return None


def up(home: Path | None = None, progress: Progress = _noop, *, workers: int = 0,
       address: str | None = None) -> ClusterInfo:
    """Start whatever is not running yet. Idempotent.

    `workers`: also start that many local worker nodes (fleet.worker_nodes). `address`:
    attach to a running Ray cluster (a KubeRay head, a `ray start --head` of one's own)
    instead of starting a head; `fleet down` then stops only Fleet's server."""
    settings = ensure_config(home or config_mod.default_home())
    if address and workers:
        raise DefinitionError(messages.WORKERS_NEED_HEAD)
    if workers:  # refuse before starting anything
        require_shared_state(settings, workers + 1)
    info = ClusterInfo.read(settings)
    if address:
        if info is None or not info.attached or info.address != address:
            info = _attach(settings, address)
            info.write(settings)
    elif info is None or (not info.attached and not alive(info.ray_pid)):
        info = _start_ray_retrying(settings, progress)
        info.write(settings)
    if workers:
        from fleet import worker_nodes

        info = worker_nodes.ensure(settings, info, workers, _ray_env(settings),
                                   info.ray_temp_dir or temp_dir(settings), progress)
        info.write(settings)
    if not (info.gateway_url and alive(info.gateway_pid) and _healthy(info.gateway_url)):
        url, pid = _start_server(settings, progress)
        g, sv = settings.gateway, settings.serving
        ports = {**(info.ports or {}), "gateway": g.port, "serve-http": sv.serve_port,
                 "router": sv.router_port}
        info = ClusterInfo(**{**info.__dict__, "gateway_url": url, "gateway_pid": pid,
                              "ports": ports})
        info.write(settings)
    else:
        _warn_if_stale(settings, info, progress)
    return info


APPS_WAIT_S = 300  # the first start converts the local model (~35 s) and deploys each app


def wait_apps(settings: Settings, info: ClusterInfo, progress: Progress = _noop,
              timeout_s: float = APPS_WAIT_S) -> dict:
    """The configured Serve apps' states ({name: AppState}) once each serves or failed, or
    at `timeout_s` (those still starting say so); `progress` hears each change."""
    from fleet.serving import app_states

    states = app_states.wait(settings, info.gateway_pid, timeout_s, progress)
    starting = [n for n, a in states.items() if a.state == app_states.STARTING]
    if starting:
        progress(messages.SERVE_APP_STILL_STARTING.format(seconds=timeout_s,
                                                          names=", ".join(starting)))
    return states


def _attach(settings: Settings, address: str) -> ClusterInfo:
    """Record a running cluster as this installation's, once its GCS answers."""
    host, port = _host_port(address)
    if not host or port is None:
        raise DefinitionError(messages.ATTACH_UNREACHABLE.format(
            address=address, reason="not host:port"))
    if not port_open(host, port):
        raise Unavailable(messages.ATTACH_UNREACHABLE.format(address=address,
                                                             reason="nothing listens there"))
    return ClusterInfo(address=address, token_auth=settings.cluster.token_auth,
                       dashboard_url=f"http://{host}:{settings.cluster.dashboard_port}",
                       attached=True)


def _warn_if_stale(settings: Settings, info: ClusterInfo, progress: Progress) -> None:
    """A running server discovered its functions when it started; say so if the code has
    changed since (new or removed functions), instead of failing later with a 404."""
    from fleet.registry import registry_for

    health = _health(info.gateway_url, timeout=5)
    if health is None:
        return
    running = health.get("functions")
    local = len(registry_for(settings))
    if running is not None and running != local:
        progress(f"the running Fleet server knows {running} functions, this code has {local}: "
                 "run `fleet down && fleet up` to load them")


def down(home: Path | None = None, progress: Progress = _noop) -> bool:
    """Stop the gateway and the Ray head this FLEET_HOME started. Data stays."""
    settings = config_mod.load_settings(home)
    info = ClusterInfo.read(settings)
    if info is None:
        return False
    progress("stopping the gateway")
    terminate(info.gateway_pid, 15)
    if not info.attached:  # a cluster Fleet attached to is not Fleet's to stop
        for pid in info.worker_pids or []:
            progress("stopping a worker node")
            terminate(pid, 15)
        progress("stopping the Ray head")
        terminate(info.ray_pid, 15)
    (settings.run_dir / "cluster.json").unlink(missing_ok=True)
    return True


def _host_port(address: str) -> tuple[str, int | None]:
    """("host", port) of a GCS address "host:port"; port None when it is not a number."""
    host, _, port = address.rpartition(":")
    return host, int(port) if port.isdigit() else None


def _gcs_answers(info: ClusterInfo) -> bool:
    host, port = _host_port(info.address)
    return port is not None and port_open(host, port)


def _migrate_req() -> str | None:
    """net.ipv4.tcp_migrate_req on this machine (None where the kernel has no such knob)."""
    try:
        return Path("/proc/sys/net/ipv4/tcp_migrate_req").read_text().strip()
    except OSError:
        return None


def status(home: Path | None = None) -> dict:
    settings = config_mod.load_settings(home)
    info = ClusterInfo.read(settings)
    out: dict = {"home": str(settings.home), "up": False}
    if info is None:
        out["message"] = messages.NOT_UP
        return out
    out.update(ray_address=info.address,
               ray_running=alive(info.ray_pid) or (info.attached and _gcs_answers(info)),
               dashboard_url=info.dashboard_url, gateway_url=info.gateway_url,
               gateway_healthy=bool(info.gateway_url and _healthy(info.gateway_url)))
    if info.worker_pids:
        out["worker_nodes"] = sum(alive(pid) for pid in info.worker_pids)
    if out["gateway_healthy"]:
        from fleet.serving import app_states, router_url

        out["routers"] = f"{_routers_up(router_url(settings))}/{settings.serving.routers}"
        out["apps"] = {n: a.public()
                       for n, a in app_states.current(settings, info.gateway_pid).items()}
        if _migrate_req() == "0":  # queued connections of a killed instance are reset
            out["tcp_migrate_req"] = messages.TCP_MIGRATE_OFF
    out["up"] = out["ray_running"] and out["gateway_healthy"]
    return out
