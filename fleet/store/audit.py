"""The audit log: who changed what, written inside the transaction that made the change."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from fleet.store.bulk import Bulk
from fleet.store.schema import audit_log

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
