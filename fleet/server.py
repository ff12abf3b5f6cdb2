"""The Fleet server: one long-lived Ray driver that owns the runtime actors.

`fleet up` starts it as `python -m fleet.server`. It creates the supervisor (which also
serves the HTTP gateway from its event loop) and the scheduler, then waits. Owning the
actors matters: Ray force-exits the workers of a job whose driver has gone, so actors owned
by a short-lived process (the `fleet up` command itself) would make every invocation start
a fresh Python worker. With the server as their owner, function workers stay warm; if the
server dies, the actors and their tasks die with it, and the next `fleet up` starts a new
server whose supervisor records the interrupted invocations as failed.
"""

from __future__ import annotations

import logging
import signal
import threading

import ray

from fleet.cluster import NAMESPACE, connect
from fleet.config import Settings, fleet_env, load_settings
from fleet.runtime.api import SUPERVISOR_NAME

log = logging.getLogger("fleet.server")
# Non-detached actors live as long as their owner holds a handle: keep them here.
_RUNTIME: list = []


def start_runtime(settings: Settings) -> list:
    """Create (or adopt) the supervisor, scheduler and router actors, start Serve, and wait
    until all answer."""
    from fleet.runtime.supervisor import SupervisorActor
    from fleet.scheduler.actor import SCHEDULER_NAME, SchedulerActor

    env = {"env_vars": fleet_env(settings)}
    sup = SupervisorActor.options(
        name=SUPERVISOR_NAME, namespace=NAMESPACE, get_if_exists=True, max_restarts=-1,
        num_cpus=0, max_concurrency=1000, runtime_env=env).remote(serve_gateway=True)
    ray.get(sup.ping.remote(), timeout=120)
    sched = SchedulerActor.options(
        name=SCHEDULER_NAME, namespace=NAMESPACE, get_if_exists=True, max_restarts=-1,
        num_cpus=0, max_concurrency=4, runtime_env=env).remote()
    ray.get(sched.ping.remote(), timeout=120)
    from fleet.serving import ROUTER_NAME, ensure_serve
    from fleet.serving.router import RouterActor

    ensure_serve(settings)
    router = ray.remote(RouterActor).options(
        name=ROUTER_NAME, namespace=NAMESPACE, get_if_exists=True, max_restarts=-1,
        num_cpus=0, max_concurrency=1000, runtime_env=env).remote()
    ray.get(router.start.remote(), timeout=120)
    _RUNTIME[:] = [sup, sched, router]
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
    connect(settings)
    start_runtime(settings)
    threading.Thread(target=restore_serving, args=(settings,), daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(5):
        pass  # the actors do the work; this process keeps their job alive


if __name__ == "__main__":
    main()
