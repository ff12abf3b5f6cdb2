"""Endpoints and their routing tables, and the bandit's arm statistics.

The router reads every routing table with one query and caches it for a fraction of a
second, so changing a table here changes traffic without touching a replica. A table change
made by a rollout is written in the rollout's own transaction (see RolloutRepo.transition).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from fleet import messages
from fleet.errors import Conflict, NotFound
from fleet.store import audit, outbox
from fleet.store.engine import Engines
from fleet.store.schema import bandit_arms as B
from fleet.store.schema import bandit_feedback as BF
from fleet.store.schema import deployments as D
from fleet.store.schema import endpoints as E


@dataclass(frozen=True)
class Endpoint:
    name: str
    routing: dict
    generation: int
    active_rollout: str | None
    created_at: float
    updated_at: float
    updated_by: str

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def write_routing(conn: Connection, *, name: str, routing: dict, actor: str, reason: str,
                  expected_generation: int | None = None) -> int | None:
    """Set an endpoint's table inside `conn`'s transaction; returns the new generation, or
    None when `expected_generation` no longer holds (someone else changed it)."""
    now = time.time()
    row = conn.execute(select(E.c.generation, E.c.routing).where(E.c.name == name)).first()
    before = row[1] if row is not None else None
    if row is None:
        if expected_generation not in (None, 0):
            return None
        conn.execute(insert(E).values(name=name, routing=routing, generation=1,
                                      created_at=now, updated_at=now, updated_by=actor))
        generation = 1
    else:
        if expected_generation is not None and row[0] != expected_generation:
            return None
        generation = row[0] + 1
        res = conn.execute(update(E).where(E.c.name == name, E.c.generation == row[0])
                           .values(routing=routing, generation=generation, updated_at=now,
                                   updated_by=actor))
        if res.rowcount != 1:
            return None
    audit.record(conn, actor=actor, action="endpoint.routing", target=f"endpoint:{name}",
                 detail={"generation": generation, "routing": routing, "reason": reason,
                         "before": before})
    outbox.emit(conn, kind="endpoint.routing", subject=f"endpoint:{name}",
                payload={"generation": generation, "routing": routing, "reason": reason})
    return generation


class EndpointRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def get(self, name: str) -> Endpoint:
        found = self.find(name)
        if found is None:
            raise NotFound(messages.UNKNOWN_ENDPOINT.format(name=name))
        return found

    def find(self, name: str) -> Endpoint | None:
        with self._e.read.connect() as conn:
            r = conn.execute(select(E).where(E.c.name == name)).first()
        return Endpoint(**dict(r._mapping)) if r else None

    def list(self, limit: int | None = None) -> list[Endpoint]:
        """Endpoints, the most recently changed first."""
        q = select(E).order_by(E.c.updated_at.desc()).limit(limit)
        with self._e.read.connect() as conn:
            return [Endpoint(**dict(r._mapping)) for r in conn.execute(q)]

    def tables(self) -> dict[str, tuple[int, dict]]:
        """Every endpoint's (generation, routing) in one read: what the router caches."""
        with self._e.read.connect() as conn:
            return {n: (g, r) for n, g, r in conn.execute(
                select(E.c.name, E.c.generation, E.c.routing))}

    def set_routing(self, name: str, routing: dict, *, actor: str, reason: str,
                    expected_generation: int | None = None) -> int | None:
        with self._e.write.begin() as conn:
            return write_routing(conn, name=name, routing=routing, actor=actor, reason=reason,
                                 expected_generation=expected_generation)

    # -- the bandit's arms ------------------------------------------------------------------

    def record_reward(self, endpoint: str, version: str, reward: float,
                      request_id: str | None = None) -> None:
        """Add one observation to an arm (reward in [0, 1]): atomic increments, so any
        number of routers can report at once. With `request_id`, once per answer: a second
        reward for the same answer is a Conflict, decided in the same transaction."""
        now = time.time()
        values = dict(pulls=B.c.pulls + 1, successes=B.c.successes + reward,
                      failures=B.c.failures + (1.0 - reward), updated_at=now)
        arm = update(B).where(B.c.endpoint == endpoint, B.c.version == version)
        with self._e.write.begin() as conn:
            if request_id is not None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(BF).values(request_id=request_id, endpoint=endpoint,
                                                       version=version, reward=reward, at=now))
                except IntegrityError:
                    raise Conflict(messages.FEEDBACK_DUPLICATE.format(id=request_id)) from None
            if conn.execute(arm.values(**values)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(insert(B).values(endpoint=endpoint, version=version, pulls=1,
                                                  successes=reward, failures=1.0 - reward,
                                                  updated_at=now))
            except IntegrityError:  # another router inserted it first: increment instead
                conn.execute(arm.values(**values))

    def arms(self, endpoint: str | None = None) -> dict[str, dict[str, dict]]:
        q = select(B)
        if endpoint:
            q = q.where(B.c.endpoint == endpoint)
        out: dict[str, dict[str, dict]] = {}
        with self._e.read.connect() as conn:
            for r in conn.execute(q):
                out.setdefault(r.endpoint, {})[r.version] = {
                    "pulls": r.pulls, "successes": r.successes, "failures": r.failures}
        return out

    # -- deployed versions (what a restarted cluster must bring back) ----------------------

    def record_deployment(self, *, app: str, model: str, version: int, options: dict,
                          actor: str) -> None:
        now = time.time()
        with self._e.write.begin() as conn:
            was = conn.execute(select(D.c.model, D.c.version, D.c.options)
                               .where(D.c.app == app)).first()
            res = conn.execute(update(D).where(D.c.app == app).values(
                model=model, version=version, options=options, updated_at=now,
                updated_by=actor))
            if not res.rowcount:
                conn.execute(insert(D).values(app=app, model=model, version=version,
                                              options=options, updated_at=now,
                                              updated_by=actor))
            audit.record(conn, actor=actor, action="serving.deploy", target=f"app:{app}",
                         detail={"model": model, "version": version, "options": options,
                                 "before": dict(was._mapping) if was is not None else None})

    def deployments(self) -> dict[str, dict]:
        with self._e.read.connect() as conn:
            return {r.app: dict(r._mapping) for r in conn.execute(select(D))}

    def apps_in_use(self) -> set[str]:
        """Apps any routing table or active rollout still needs."""
        from fleet.store.schema import rollouts as R

        apps: set[str] = set()
        with self._e.read.connect() as conn:
            for (table,) in conn.execute(select(E.c.routing)):
                apps |= {v["app"] for v in table.get("versions", [])}
                if table.get("shadow"):
                    apps.add(table["shadow"]["app"])
            for cand, base in conn.execute(select(R.c.candidate, R.c.baseline).where(
                    R.c.finished_at.is_(None))):
                apps |= {d["app"] for d in (cand, base) if d}
        return apps
