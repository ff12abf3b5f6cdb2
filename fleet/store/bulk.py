"""executemany straight on the DBAPI cursor, for the group writer's hot statements.

SQLAlchemy's executemany builds every parameter set in Python (`construct_params` and the
execution context's per-row processing): with the gateway under load that was about a tenth
of the supervisor's GIL time (bench/profile_gateway --gil), more than SQLite itself. A
`Bulk` statement is compiled once per dialect; each row's values are put in the compiled
order with the same bind processors SQLAlchemy would apply (JSON to text, ...), and the
driver's own executemany runs them (C in sqlite3, one pipeline in psycopg). It runs inside
the caller's transaction, on the same connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection


class Bulk:
    def __init__(self, stmt) -> None:
        self._stmt = stmt
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict, bool]] = {}

    def _for(self, conn: Connection):
        name = conn.dialect.name
        got = self._compiled.get(name)
        if got is None:
            c = self._stmt.compile(dialect=conn.dialect)
            order = tuple(c.positiontup) if c.positional else tuple(c.binds)
            got = self._compiled[name] = (str(c), order, dict(c._bind_processors), c.positional)
        return got

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        """Execute for every row (dicts keyed by bind name); the rows it touched."""
        sql, order, procs, positional = self._for(conn)
        def value(r: dict, n: str):
            v = r.get(n)  # a missing value is SQL NULL, as in an INSERT without the column
            return procs[n](v) if v is not None and n in procs else v

        if positional:
            params: list = [tuple(value(r, n) for n in order) for r in rows]
        else:
            params = [{n: value(r, n) for n in order} for r in rows]
        cur = conn.connection.cursor()
        try:
            cur.executemany(sql, params)
            return cur.rowcount
        finally:
            cur.close()


__all__ = ["Bulk"]
