"""The scheduler as a Ray actor owned by the Fleet server: restarted by Ray if it dies, ticking
in threads."""

from __future__ import annotations

import logging
import threading
import time

import ray

from fleet.runtime import Client
from fleet.scheduler.core import SchedulerCore

log = logging.getLogger("fleet.scheduler")
SCHEDULER_NAME = "fleet-scheduler"


class Scheduler:
    """Four loops, each on its own thread, so none waits for another: a slow Prometheus
    query in a rollout analysis, or a restarting supervisor, never delays a schedule."""

    def __init__(self) -> None:
        self.client = Client()
        self.core = SchedulerCore(self.client)
        self.core.sync_code_schedules()
        from fleet.rollouts import build_controller

        # Rollout ticks ride on the scheduler: state lives in the store, so a restarted
        # scheduler continues every rollout at its stored step.
        self.rollouts = build_controller(self.client.settings, self.client.store)
        self._routers: dict[int, object] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._every_tick, args=(step, what), name=f"fleet-{what}",
                             daemon=True)
            for what, step in (("pings", self._ping_all), ("schedules", self.core.tick),
                               ("rollouts", self.rollouts.tick),
                               ("actions", self.core.run_approved_actions))]
        for t in self._threads:
            t.start()

    def _every_tick(self, step, what: str) -> None:
        tick_s = self.client.settings.scheduler.tick_s
        while not self._stop.is_set():
            try:
                step()
            except Exception:  # one failed tick must not stop the loop
                log.exception("%s tick failed", what)
            self._stop.wait(tick_s - (time.time() % tick_s))

    def _ping_all(self) -> None:
        try:
            # Keeps the supervisor's recovery sweep (and its gateway) alive after it
            # restarts. A failure here must not stop the router's ping.
            ray.get(self.client.supervisor().ping.remote(), timeout=30)
        except Exception:
            log.exception("supervisor ping failed")
        self._ping_router()

    def _ping_router(self) -> None:
        """A restarted router instance serves HTTP again once pinged (as the supervisor)."""
        from fleet.cluster import NAMESPACE
        from fleet.serving import router_name

        for i in range(self.client.settings.serving.routers):
            try:
                if i not in self._routers:
                    self._routers[i] = ray.get_actor(router_name(i), namespace=NAMESPACE)
                ray.get(self._routers[i].ping.remote(), timeout=30)
            except ValueError:
                pass  # not created yet: the Fleet server starts them after this actor
            except Exception:
                self._routers.pop(i, None)
                log.exception("router %d ping failed", i)

    def ping(self) -> str:
        return "ok"

    def tick_now(self) -> list[str]:
        return self.core.tick()

    def pid(self) -> int:
        import os

        return os.getpid()


SchedulerActor = ray.remote(Scheduler)
