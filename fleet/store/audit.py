"""The audit log: who changed what, written inside the transaction that made the change."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select

from fleet.store.bulk import Bulk
from fleet.store.ids import escape_like
from fleet.store.schema import audit_log, audit_seals

_INSERT = Bulk(insert(audit_log).values({c.name: bindparam(c.name, type_=c.type)
                                         for c in audit_log.columns if c.name != "id"}))


def record(conn: Connection, *, actor: str, action: str, target: str,
           detail: dict[str, Any] | None = None) -> None:
    conn.execute(insert(audit_log).values(at=time.time(), actor=actor, action=action,
                                          target=target, detail=detail))


def record_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Many entries in one executemany (rows: actor, action, target, detail)."""
    if rows:
        now = time.time()
        _INSERT.run(conn, [{"at": now, **r} for r in rows])


def entries(conn: Connection, *, target: str | None = None, limit: int = 100) -> list[dict]:
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if target is not None:
        q = q.where(audit_log.c.target == target)
    return [dict(r._mapping) for r in conn.execute(q)]


# -- the trail: queries, and a hash chain that shows an edited or deleted row ---------------
#
# Rows are not hashed as they are written (that would put a read of the chain's head in
# every transaction that audits, the invoke path's included). A sealer (the scheduler, every
# tick) chains the rows written since the last seal, in id order, onto that seal's head
# and records each row's hash in one new seal row: one insert per tick. `verify` recomputes
# the chain from the first seal: an edited row no longer hashes to its recorded hash, a
# deleted one is missing, and a deleted or edited seal breaks the chain of the next.

GENESIS = "0" * 64
SEAL_LAG_S = 2.0  # rows younger than this wait for the next seal (their writers may not
#                   have committed every lower id yet: PostgreSQL hands ids out at insert)


def canonical(row) -> bytes:
    """What a row's hash covers: every column of the row, in a fixed form."""
    m = row if isinstance(row, dict) else row._mapping
    return json.dumps({"id": m["id"], "at": repr(float(m["at"])), "actor": m["actor"],
                       "action": m["action"], "target": m["target"], "detail": m["detail"]},
                      sort_keys=True, separators=(",", ":"), default=str).encode()


def chained(prev: str, row) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + canonical(row)).hexdigest()


def _boundary_match(column, value: str, seps: tuple[str, ...]):
    """`value` itself, or anything under it after one of `seps` (resource `model:churn`
    covers `model:churn@champion`, action `endpoint` covers `endpoint.routing`), but not a
    longer name (`endpoint:churn2`)."""
    return or_(column == value, *(column.like(escape_like(value) + sep + "%", escape="\\")
                                  for sep in seps))


@dataclass(frozen=True)
class Seal:
    """A seal chained and not yet recorded: it holds only if the last seal is still
    `after_seal` when it is (None: there was none)."""

    after_seal: int | None
    from_id: int
    to_id: int
    head: str
    rows: list  # [row id, its hash] in id order


class AuditRepo:
    def __init__(self, engines) -> None:
        self._e = engines

    def query(self, *, resource: str | None = None, actor: str | None = None,
              action: str | None = None, since: float | None = None,
              until: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        q = select(audit_log)
        if resource:
            q = q.where(_boundary_match(audit_log.c.target, resource, ("@", ":", "/")))
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if action:
            q = q.where(_boundary_match(audit_log.c.action, action, (".",)))
        if since is not None:
            q = q.where(audit_log.c.at >= since)
        if until is not None:
            q = q.where(audit_log.c.at <= until)
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                q.order_by(audit_log.c.id.desc()).limit(limit))]

    def seal(self, now: float | None = None, limit: int = 20_000) -> int:
        """Chain the rows written since the last seal; how many it sealed.

        The rows are read and hashed outside the write lock, and the write transaction only
        checks that no other seal came first and inserts this one. Hashing under the lock
        held SQLite's one writer for tens of ms each tick while the invoke path's commits
        waited (bench/gateway: sync invoke p99 at c=16 rose from 37 to 130 ms, at once a
        second). If another sealer came first, nothing is written: the next tick goes on
        from its seal."""
        return self.commit_seal(self.prepare_seal(now, limit))

    def prepare_seal(self, now: float | None = None, limit: int = 20_000) -> Seal | None:
        """Read and chain the rows to seal (no lock held): what `commit_seal` records."""
        cutoff = (time.time() if now is None else now) - SEAL_LAG_S
        with self._e.read.connect() as conn:
            last = self._last_seal(conn)
            after, prev = (last.to_id, last.head) if last else (0, GENESIS)
            rows = conn.execute(select(audit_log).where(audit_log.c.id > after,
                                                        audit_log.c.at < cutoff)
                                .order_by(audit_log.c.id).limit(limit)).all()
        if not rows:
            return None
        hashes = []
        for r in rows:
            prev = chained(prev, r)
            hashes.append([r.id, prev])
        return Seal(last.id if last else None, rows[0].id, rows[-1].id, prev, hashes)

    def commit_seal(self, seal: Seal | None) -> int:
        """Record a prepared seal unless another came first; how many rows it sealed."""
        if seal is None:
            return 0
        with self._e.write.begin() as conn:
            if conn.dialect.name == "postgresql":  # one sealer at a time
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(726301)")
            last = self._last_seal(conn)
            if (last.id if last else None) != seal.after_seal:
                return 0  # another sealer chained these rows first
            conn.execute(insert(audit_seals).values(
                at=time.time(), from_id=seal.from_id, to_id=seal.to_id, head=seal.head,
                rows=seal.rows))
        return len(seal.rows)

    @staticmethod
    def _last_seal(conn: Connection):
        return conn.execute(select(audit_seals.c.id, audit_seals.c.to_id, audit_seals.c.head)
                            .order_by(audit_seals.c.id.desc()).limit(1)).first()

    def verify(self) -> dict[str, Any]:
        """Recompute the chain over every sealed row. {"ok", "rows", "seals", "head",
        "problems": [{"id" or "seal", "problem"}], "unsealed", "late"}: each problem names
        the row (edited, deleted) or the seal (edited, deleted). `unsealed`: rows newer
        than the last seal (the next tick seals them); `late`: rows below it that no seal
        covers (committed after a seal passed their id)."""
        problems: list[dict[str, Any]] = []
        prev, checked, seals, covered, last = GENESIS, 0, 0, set(), 0
        with self._e.read.connect() as conn:
            for seal in conn.execute(select(audit_seals).order_by(audit_seals.c.id)):
                seals += 1
                if seal.from_id <= last:
                    problems.append({"seal": seal.id, "problem": "overlaps the seal before"})
                ids = [i for i, _ in seal.rows]
                covered.update(ids)
                found = {r.id: r for r in conn.execute(
                    select(audit_log).where(audit_log.c.id.in_(ids)))}
                for row_id, recorded in seal.rows:
                    row = found.get(row_id)
                    if row is None:
                        problems.append({"id": row_id, "problem": "deleted"})
                    else:
                        checked += 1
                        if chained(prev, row) != recorded:
                            problems.append({"id": row_id, "problem": "edited"})
                    prev = recorded  # what the next row was chained onto
                if prev != seal.head:
                    problems.append({"seal": seal.id, "problem": "edited"})
                prev, last = seal.head, seal.to_id
            unsealed = conn.execute(select(func.count()).select_from(audit_log)
                                    .where(audit_log.c.id > last)).scalar_one()
            below = {r[0] for r in conn.execute(select(audit_log.c.id)
                                                .where(audit_log.c.id <= last))}
        return {"ok": not problems, "rows": checked, "seals": seals,
                "head": prev if seals else None, "problems": problems,
                "unsealed": unsealed, "late": len(below - covered)}
