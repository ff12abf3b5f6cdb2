"""An online backup of the store, taken while Fleet runs.

SQLite: the sqlite3 backup API copies the database page by page in steps, so writers wait
milliseconds at a time, never for the whole copy; the copy is consistent (a snapshot that
restarts if a writer changed pages underneath) and is written to a temporary file that is
renamed into place only when complete. PostgreSQL: pg_dump does the same job better; the
message says how.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput


def backup(store_url: str, dest: Path, *, overwrite: bool = False) -> dict:
    """Copy the store at `store_url` to `dest`; returns {"path", "bytes", "pages"}."""
    url = make_url(store_url)
    if url.get_backend_name() != "sqlite":
        raise InvalidInput(messages.BACKUP_USE_PG_DUMP, [FieldProblem(
            "store_url", "PostgreSQL", "Use pg_dump --format=custom (see docs/operations.md).")])
    dest = Path(dest).expanduser().resolve()
    if dest.exists() and not overwrite:
        raise InvalidInput(messages.BACKUP_EXISTS.format(path=dest), [FieldProblem(
            "DEST", "exists", "Name a new file, or pass --overwrite.")])
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=30)
    out = sqlite3.connect(tmp)
    try:
        src.backup(out, pages=1024, sleep=0.01)
        pages = out.execute("PRAGMA page_count").fetchone()[0]
        ok = out.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        out.close()
        src.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"the backup failed its integrity check: {ok}")
    os.replace(tmp, dest)
    return {"path": str(dest), "bytes": dest.stat().st_size, "pages": pages}
