"""The outbox: events for notifiers (the Slack bot next), written inside the transaction
that made the change, so a notifier that was down misses nothing and sees nothing that was
rolled back. Notifiers read pending events in order and mark them delivered."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, insert, select, update

from fleet.store.engine import Engines
from fleet.store.schema import outbox as O


def emit(conn: Connection, *, kind: str, subject: str, payload: dict[str, Any]) -> None:
    conn.execute(insert(O).values(at=time.time(), kind=kind, subject=subject,
                                  payload=payload))


class OutboxRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def pending(self, *, limit: int = 100, after_id: int = 0) -> list[dict[str, Any]]:
        q = (select(O).where(O.c.delivered_at.is_(None), O.c.id > after_id)
             .order_by(O.c.id).limit(limit))
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def recent(self, *, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        q = select(O).order_by(O.c.id.desc()).limit(limit)
        if subject:
            q = q.where(O.c.subject == subject)
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)][::-1]

    def mark_delivered(self, ids: list[int], *, by: str) -> int:
        """Compare-and-set: an event is delivered once, by the first notifier to claim it."""
        if not ids:
            return 0
        with self._e.write.begin() as conn:
            return conn.execute(update(O).where(O.c.id.in_(ids), O.c.delivered_at.is_(None))
                                .values(delivered_at=time.time(), delivered_by=by)).rowcount
