"""Small values every node of an installation must share, created once: the first writer
wins and everyone reads its value (the router's key for signing request ids)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from fleet.store.engine import Engines
from fleet.store.schema import kv as K


class KeyValueRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def get_or_create(self, key: str, make: Callable[[], str]) -> str:
        with self._e.read.connect() as conn:
            row = conn.execute(select(K.c.value).where(K.c.key == key)).first()
        if row is not None:
            return row[0]
        try:
            with self._e.write.begin() as conn:
                conn.execute(insert(K).values(key=key, value=make(), created_at=time.time()))
        except IntegrityError:
            pass  # another process created it first: use theirs
        with self._e.read.connect() as conn:
            return conn.execute(select(K.c.value).where(K.c.key == key)).scalar_one()
