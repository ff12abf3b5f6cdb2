"""The Fleet server: one long-lived Ray driver that owns the runtime actors.

`fleet up` starts it as `python -m fleet.server`. It creates the supervisor instances (each
also serves the HTTP gateway from its event loop, on one shared port), the scheduler and
the router instances, then waits. Owning the actors matters: Ray force-exits the workers of
a job whose driver has gone, so actors owned by a short-lived process (the `fleet up`
command itself) would make every invocation start a fresh Python worker. With the server as
their owner, function workers stay warm; if the server dies, the actors and their tasks die
with it, and the next `fleet up` starts a new server whose supervisor records the
interrupted invocations as failed.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

import ray

from fleet.cluster import NAMESPACE, connect
from fleet.config import Settings, fleet_env, load_settings
from fleet.errors import DefinitionError
from fleet.lifecycle import SERVER_REFUSAL
from fleet.multinode import alive_nodes, on_head, require_shared_state
from fleet.runtime.api import supervisor_name
from fleet.runtime.ownership import new_owner_id

log = logging.getLogger("fleet.server")
# Non-detached actors live as long as their owner holds a handle: keep them here.
_RUNTIME: list = []


def start_runtime(settings: Settings) -> list:
    """Create (or adopt) the supervisor, scheduler and router actors, start Serve, and wait
    until all answer."""
    from fleet.gateway import create_app
    from fleet.runtime.supervisor import SupervisorActor
    from fleet.scheduler.actor import SCHEDULER_NAME, SchedulerActor

    require_shared_state(settings, len(alive_nodes()))
    # On the head node, restarted by Ray when their process dies (see fleet.multinode).
    common = {"namespace": NAMESPACE, "get_if_exists": True, "max_restarts": -1,
              "num_cpus": 0, "runtime_env": {"env_vars": fleet_env(settings)}, **on_head()}
    n = settings.gateway.instances  # each serves the gateway, on one port (SO_REUSEPORT)
    sups = [SupervisorActor.options(
        name=supervisor_name(i), max_concurrency=1000, **common).remote(
            # the id is an argument: Ray restarts an instance with the same one
            gateway_app=create_app, index=i, count=n,
            holder=new_owner_id(supervisor_name(i)))
        for i in range(n)]
    ray.get([s.ping.remote() for s in sups], timeout=120)
    sched = SchedulerActor.options(
        name=SCHEDULER_NAME, max_concurrency=4, **common).remote()
    ray.get(sched.ping.remote(), timeout=120)
    from fleet.serving import ensure_serve, router_name
    from fleet.serving.router_actor import RouterActor

    ensure_serve(settings)
    count = settings.serving.routers  # instances on one port (SO_REUSEPORT)
    routers = [ray.remote(RouterActor).options(
        name=router_name(i), max_concurrency=1000, **common).remote(i, count)
        for i in range(count)]
    ray.get([r.start.remote() for r in routers], timeout=120)
    _RUNTIME[:] = [*sups, sched, *routers]
    return _RUNTIME


def restore_serving(settings: Settings) -> None:
    """Bring back the apps the store needs, then run the configured ones (fleet.serving.apps):
    by import path, so the core imports no Serve app."""
    from fleet.serving import apps

    try:
        apps.start(settings)
    except Exception:  # a thread of its own: log, never take the server down
        log.exception("could not start the serve apps")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    connect(settings, discover=True)  # `fleet up` or a KubeRay head, see fleet.cluster
    try:
        start_runtime(settings)
    except DefinitionError as exc:  # e.g. SQLite on many nodes: say why, not a traceback
        print(f"{SERVER_REFUSAL} {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    from fleet.serving import app_states

    app_states.SERVER["pid"] = os.getpid()  # `fleet up` waits on this server's record
    threading.Thread(target=restore_serving, args=(settings,), daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(5):
        pass  # the actors do the work; this process keeps their job alive
    try:  # a clean stop hands the store's sweep on at once (fleet.store.leases)
        ray.get([s.release_lease.remote() for s in _RUNTIME[:settings.gateway.instances]],
                timeout=5)
    except Exception:  # the leases then expire on their own
        log.warning("could not release the supervisors' leases")


if __name__ == "__main__":
    main()
