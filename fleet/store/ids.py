"""Ids a person can copy: every `get` by id also takes a unique prefix, as git does.

Lists show the shortest prefix (at least MIN_SHOWN characters) that tells the listed rows
apart; any command or URL that takes an id accepts it. An exact id is looked up first, so
the hot paths (the supervisor reading by full id) pay nothing for this.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Table, select

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

MIN_PREFIX = 6  # shorter prefixes are not looked up: they would match too much


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (used with escape="\\"): its percent
    signs, underscores and backslashes match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_row(conn: Connection, table: Table, column: Column, value: str, kind: str):
    """The row whose id is `value`, or whose id starts with it when that is unique."""
    row = conn.execute(select(table).where(column == value)).first()
    if row is not None or len(value) < MIN_PREFIX:
        return row
    rows = conn.execute(select(table).where(column.like(escape_like(value) + "%", escape="\\"))
                        .limit(4)).all()
    if len(rows) > 1:
        some = ", ".join(getattr(r, column.name) for r in rows[:3])
        raise InvalidInput(messages.AMBIGUOUS_ID.format(prefix=value, count=len(rows),
                                                        kind=kind, some=some),
                           [FieldProblem("id", "ambiguous prefix", "Give more characters.")])
    return rows[0] if rows else None
