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
        self._supervisors: dict[int, object] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._every_tick, args=(step, what), name=f"fleet-{what}",
                             daemon=True)
            for what, step in (("pings", self._ping_all), ("schedules", self.core.tick),
                               ("rollouts", self.rollouts.tick),
                               ("actions", self.core.run_approved_actions),
                               ("audit", self.core.seal_audit))]
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
        """A restarted supervisor instance recovers its work and serves its gateway again,
        and a restarted router instance serves HTTP again, once pinged. A failed ping
        must not stop the others."""
        from fleet.runtime import supervisor_name
        from fleet.serving import router_name

        settings = self.client.settings
        self._ping(self._supervisors, supervisor_name, settings.gateway.instances)
        self._ping(self._routers, router_name, settings.serving.routers)

    @staticmethod
    def _ping(handles: dict[int, object], name_of, count: int) -> None:
        from fleet.cluster import NAMESPACE

        for i in range(count):
            try:
                if i not in handles:
                    handles[i] = ray.get_actor(name_of(i), namespace=NAMESPACE)
                ray.get(handles[i].ping.remote(), timeout=30)
            except ValueError:
                pass  # not created yet: the Fleet server starts it after this actor
            except Exception:
                handles.pop(i, None)
                log.exception("%s ping failed", name_of(i))

    def ping(self) -> str:
        return "ok"

    def pid(self) -> int:
        import os

        return os.getpid()


SchedulerActor = ray.remote(Scheduler)
