"""Schedules: those declared in code (synced at scheduler start) and those added at run time."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from fleet import messages
from fleet.errors import Conflict, InvalidInput, NotFound
from fleet.store import audit
from fleet.store.engine import Engines
from fleet.store.schema import schedules as T


@dataclass(frozen=True)
class Schedule:
    name: str
    function: str
    spec: str
    payload: Any
    origin: str
    enabled: bool
    last_slot: float | None
    created_at: float
    created_by: str
    max_catchup: int | None = None

    @classmethod
    def from_row(cls, row) -> Schedule:
        return cls(**dict(row._mapping))

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "function": self.function, "schedule": self.spec,
                "input": self.payload, "origin": self.origin, "enabled": self.enabled,
                "last_slot": self.last_slot, "max_catchup": self.max_catchup}


class ScheduleRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def list(self, limit: int | None = None) -> list[Schedule]:
        """Schedules, the newest first."""
        q = select(T).order_by(T.c.created_at.desc()).limit(limit)
        with self._e.read.connect() as conn:
            return [Schedule.from_row(r) for r in conn.execute(q)]

    def get(self, name: str) -> Schedule:
        with self._e.read.connect() as conn:
            r = conn.execute(select(T).where(T.c.name == name)).first()
        if r is None:
            raise NotFound(messages.UNKNOWN_SCHEDULE.format(name=name))
        return Schedule.from_row(r)

    def add(self, *, name: str, function: str, spec: str, payload: Any, actor: str,
            origin: str = "runtime", start_after: float | None = None,
            max_catchup: int | None = None) -> Schedule:
        """Add a schedule. Its first slot is the first one after now (no back-fill)."""
        with self._e.write.begin() as conn:
            if conn.execute(select(T.c.name).where(T.c.name == name)).first():
                raise Conflict(messages.SCHEDULE_EXISTS.format(name=name))
            conn.execute(insert(T).values(
                name=name, function=function, spec=spec, payload=payload, origin=origin,
                enabled=True, last_slot=start_after if start_after is not None else time.time(),
                created_at=time.time(), created_by=actor, max_catchup=max_catchup))
            audit.record(conn, actor=actor, action="schedule.add", target=f"schedule:{name}",
                         detail={"function": function, "schedule": spec, "origin": origin,
                                 "max_catchup": max_catchup})
        return self.get(name)

    def sync_from_code(self, wanted: dict[str, tuple[str, str]], actor: str) -> None:
        """Make the code-origin schedules match the decorators: {name: (function, spec)}.

        A schedule whose spec is unchanged keeps its last_slot, so a restart neither re-runs
        nor skips a slot."""
        with self._e.write.begin() as conn:
            rows = {r.name: r for r in conn.execute(select(T).where(T.c.origin == "code"))}
            for name, (function, spec) in wanted.items():
                row = rows.get(name)
                if row is not None and row.spec == spec and row.function == function:
                    continue
                if row is not None:
                    conn.execute(delete(T).where(T.c.name == name))
                elif conn.execute(select(T.c.name).where(T.c.name == name)).first():
                    continue  # a runtime schedule owns this name; leave it alone
                conn.execute(insert(T).values(
                    name=name, function=function, spec=spec, payload={}, origin="code",
                    enabled=True, last_slot=time.time(), created_at=time.time(),
                    created_by=actor))
                audit.record(conn, actor=actor, action="schedule.sync",
                             target=f"schedule:{name}", detail={"schedule": spec})
            for name in set(rows) - set(wanted):
                conn.execute(delete(T).where(T.c.name == name))
                audit.record(conn, actor=actor, action="schedule.remove",
                             target=f"schedule:{name}", detail={"reason": "gone from code"})

    def remove(self, name: str, actor: str) -> None:
        with self._e.write.begin() as conn:
            r = conn.execute(select(T).where(T.c.name == name)).first()
            if r is None:
                raise NotFound(messages.UNKNOWN_SCHEDULE.format(name=name))
            if r.origin == "code":
                raise InvalidInput(messages.SCHEDULE_FROM_CODE.format(name=name,
                                                                      function=r.function))
            conn.execute(delete(T).where(T.c.name == name))
            audit.record(conn, actor=actor, action="schedule.remove", target=f"schedule:{name}",
                         detail={"before": {"function": r.function, "schedule": r.spec,
                                            "payload": r.payload, "created_by": r.created_by}})

    def record_error(self, name: str, slot: float, error: str, actor: str = "scheduler"
                     ) -> None:
        """A slot that could not start (its invocation was refused): audited, not lost."""
        with self._e.write.begin() as conn:
            audit.record(conn, actor=actor, action="schedule.error",
                         target=f"schedule:{name}", detail={"slot": slot, "error": error[:500]})

    def advance(self, name: str, expected: float | None, slot: float,
                skipped: list[float] | None = None) -> bool:
        """Compare-and-set last_slot; False if another scheduler advanced it first."""
        with self._e.write.begin() as conn:
            cond = T.c.last_slot.is_(None) if expected is None else T.c.last_slot == expected
            res = conn.execute(update(T).where(T.c.name == name, cond).values(last_slot=slot))
            if res.rowcount == 1 and skipped:
                audit.record(conn, actor="scheduler", action="schedule.skip",
                             target=f"schedule:{name}",
                             detail={"skipped_slots": skipped, "reason": "max_catchup"})
            return res.rowcount == 1
