"""Schedules, as a service: who may add and remove them, what a schedule must be, the
input it will run with, and what a due slot does, decided in one place for the gateway,
the CLI (`fleet schedules add`, `fleet drift watch`), the demo and the scheduler (which
only calls `run_due` on its clock: fleet.scheduler). The store keeps the rows and the
audit entries (fleet.store.schedules).

Each due slot becomes an invocation whose idempotency key names the schedule and the slot
(one of Fleet's own keys, out of every caller's reach), and the schedule's last_slot moves
forward by compare-and-set. A scheduler that dies between the two steps, or two schedulers
ticking at once, therefore run each slot once. Slots missed while no scheduler ran are run
late (up to max_catchup per schedule); older ones are audited as skipped, never dropped
silently."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from fleet import permissions
from fleet.cadence import parse_schedule
from fleet.identity import Identity
from fleet.runtime.payloads import validate_payload
from fleet.store import Schedule, Store

log = logging.getLogger("fleet.scheduler")


def slot_key(name: str, slot: float) -> str:
    iso = datetime.fromtimestamp(slot, tz=timezone.utc).isoformat(timespec="milliseconds")
    return f"schedule:{name}:{iso}"


class Schedules:
    def __init__(self, store: Store, registry, client=None) -> None:
        """`client`: the runtime Client that starts due slots (the scheduler's)."""
        self.store = store
        self.registry = registry
        self.client = client

    def add(self, who: Identity, *, name: str, function: str, spec: str, payload: Any,
            max_catchup: int | None = None) -> Schedule:
        """Add a schedule as `who` (the admin, or a role that grants `schedule` on the
        function): its spec parsed and its input validated against the function now, not
        at its first slot. Its first slot is the first one after now."""
        who.require("invoke")
        permissions.require(self.client.settings, who, "schedule", f"function:{function}")
        parse_schedule(spec)  # InvalidInput with the accepted forms
        data = validate_payload(self.registry.get(function), payload)
        return self.store.schedules.add(name=name, function=function, spec=spec, payload=data,
                                        actor=who.name, start_after=time.time(),
                                        max_catchup=max_catchup)

    def list(self, who: Identity, *, limit: int | None = None) -> list[Schedule]:
        who.require("read")
        return self.store.schedules.list(limit=limit)

    def remove(self, who: Identity, name: str) -> None:
        """Remove a schedule: the admin, or a role that grants `schedule` on its function."""
        who.require("invoke")
        function = self.store.schedules.get(name).function
        permissions.require(self.client.settings, who, "schedule", f"function:{function}")
        self.store.schedules.remove(name, who.name)


    # -- running them (the scheduler, on its clock) ----------------------------------------

    def sync_from_code(self) -> None:
        """The schedules `@function(schedule=...)` declares, as the code says now."""
        wanted = {spec.name: (spec.name, spec.schedule)
                  for spec in self.registry if spec.schedule}
        self.store.schedules.sync_from_code(wanted, actor="scheduler")

    def run_due(self, now: float | None = None, *, default_catchup: int) -> list[str]:
        """Run every due slot once; the invocation ids started. `default_catchup`: the
        scheduler's max_catchup, for schedules that set none."""
        now = time.time() if now is None else now
        started: list[str] = []
        for sched in self.store.schedules.list():
            if not sched.enabled:
                continue
            due = parse_schedule(sched.spec).due(sched.last_slot or now, now)
            if not due:
                continue
            catchup = sched.max_catchup or default_catchup
            run, skipped = due[-catchup:], due[:-catchup]
            for slot in run:
                try:
                    inv = self.client.invoke(
                        sched.function, sched.payload, caller=f"schedule:{sched.name}",
                        via="schedule", own_key=slot_key(sched.name, slot), wait=False)
                    started.append(inv.id)
                except Exception as exc:  # a bad schedule must not stop the others
                    log.warning("schedule %s slot %s failed to start: %s", sched.name, slot, exc)
                    self.store.schedules.record_error(sched.name, slot, str(exc))
            self.store.schedules.advance(sched.name, sched.last_slot, due[-1], skipped)
        return started


__all__ = ["Schedules", "slot_key"]
