"""Labels: the ground truth for answers an endpoint gave, sent back as feedback.

A label names the answer by its request id (signed by the router, so it carries the
endpoint, the routing key that answered and when) and the instance by its index in that
request. Each instance is labelled once: a second label for it is a Conflict, decided in
the same transaction as the first. Drift checks join labels with the logged predictions
(fleet.serving.predlog writes the request id and index with each sampled row) to give a
version's realised accuracy or error.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from fleet import messages
from fleet.errors import Conflict
from fleet.store.engine import Engines
from fleet.store.schema import labels as L

MAX_PER_REQUEST = 10_000


class LabelRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def record(self, *, endpoint: str, version: str, request_id: str, predicted_at: float,
               labels: dict[int, Any]) -> int:
        """Store `labels` (instance index -> label) for one answer, all or none."""
        now = time.time()
        rows = [{"request_id": request_id, "row": int(i), "endpoint": endpoint,
                 "version": version, "label": value, "predicted_at": predicted_at, "at": now}
                for i, value in sorted(labels.items())]
        try:
            with self._e.write.begin() as conn:
                conn.execute(insert(L), rows)
        except IntegrityError:
            raise Conflict(messages.LABEL_DUPLICATE.format(id=request_id)) from None
        return len(rows)

    def window(self, endpoint: str, versions: list[str], since: float, until: float,
               *, limit: int = 2_000_000) -> list[tuple[str, int, Any]]:
        """(request_id, row, label) for answers `versions` of `endpoint` gave in the window
        (by when the answer was given, whenever its label came)."""
        q = (select(L.c.request_id, L.c.row, L.c.label)
             .where(L.c.endpoint == endpoint, L.c.version.in_(versions),
                    L.c.predicted_at >= since, L.c.predicted_at < until).limit(limit))
        with self._e.read.connect() as conn:
            return [(r.request_id, r.row, r.label) for r in conn.execute(q)]

