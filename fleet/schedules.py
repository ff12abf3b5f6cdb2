"""Schedules, as a service: who may add and remove them, what a schedule must be, and the
input it will run with, decided in one place for the gateway, the CLI (`fleet schedules
add`, `fleet drift watch`) and the demo. The store keeps the rows and the audit entry
(fleet.store.schedules); the scheduler runs the slots (fleet.scheduler)."""

from __future__ import annotations

import time
from typing import Any

from fleet.cadence import parse_schedule
from fleet.identity import Identity
from fleet.runtime.payloads import validate_payload
from fleet.store import Schedule, Store


class Schedules:
    def __init__(self, store: Store, registry) -> None:
        self.store = store
        self.registry = registry

    def add(self, who: Identity, *, name: str, function: str, spec: str, payload: Any,
            max_catchup: int | None = None) -> Schedule:
        """Add a schedule as `who` (the admin scope): its spec parsed and its input
        validated against the function now, not at its first slot. Its first slot is the
        first one after now."""
        who.require("admin")
        parse_schedule(spec)  # InvalidInput with the accepted forms
        data = validate_payload(self.registry.get(function), payload)
        return self.store.schedules.add(name=name, function=function, spec=spec, payload=data,
                                        actor=who.name, start_after=time.time(),
                                        max_catchup=max_catchup)

    def list(self, who: Identity, *, limit: int | None = None) -> list[Schedule]:
        who.require("read")
        return self.store.schedules.list(limit=limit)

    def remove(self, who: Identity, name: str) -> None:
        who.require("admin")
        self.store.schedules.remove(name, who.name)


__all__ = ["Schedules"]
