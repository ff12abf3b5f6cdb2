"""Engines for the store: SQLite in WAL mode by default, PostgreSQL by URL.

SQLite gets two engines. Writes begin with BEGIN IMMEDIATE, so two processes that both read
then write (a compare-and-set) queue on the lock instead of failing with 'database is
locked' halfway through; reads use plain deferred transactions and never wait on a writer.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event, insert, inspect, select, update
from sqlalchemy.engine import make_url

from fleet.store import schema
from fleet.store.writer_turn import WriterTurn

SCHEMA_VERSION = 15
LOCK_TIMEOUT_S = 30.0

# version -> function(conn) that brings the schema from version-1 to version.
# Version 1 is the initial schema; later versions append here, never edit earlier ones.
MIGRATIONS: dict[int, object] = {
    1: lambda conn: schema.metadata.create_all(
        conn, tables=[schema.invocations, schema.schedules, schema.audit_log]),
    2: lambda conn: schema.metadata.create_all(conn, tables=schema.V2_TABLES),
    3: lambda conn: schema.metadata.create_all(conn, tables=schema.V3_TABLES),
    4: lambda conn: _add_column(conn, "invocations", "progress", "JSON"),
    5: lambda conn: schema.metadata.create_all(conn, tables=schema.V5_TABLES),
    6: lambda conn: _v6_retired_at(conn),
    7: lambda conn: schema.metadata.create_all(conn, tables=schema.V7_TABLES),
    8: lambda conn: _v8_outbox_deliveries(conn),
    9: lambda conn: _v9_drift(conn),
    10: lambda conn: _v10_labels(conn),
    11: lambda conn: _v11_usage(conn),
    12: lambda conn: schema.metadata.create_all(conn, tables=schema.V12_TABLES),
    # Which supervisor instance runs an invocation: several serve the gateway now.
    13: lambda conn: _add_column(conn, "invocations", "owner", "VARCHAR(200)"),
    # Idempotency keys belong to their caller; Fleet's own keys to no caller.
    14: lambda conn: _v14_scoped_keys(conn),
    # The audit log's hash chain (fleet.store.audit: seals).
    15: lambda conn: schema.metadata.create_all(conn, tables=schema.V15_TABLES),
}


def _v14_scoped_keys(conn) -> None:
    """Each stored key becomes its owner's (fleet.names.scoped_key): a schedule's slot and
    an approval's action are Fleet's own, any other key is its caller's. The column widens
    to hold the caller's name (PostgreSQL enforces VARCHAR lengths; SQLite does not)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE invocations ALTER COLUMN idempotency_key "
                             "TYPE VARCHAR(600)")
    conn.exec_driver_sql(
        "UPDATE invocations SET idempotency_key = 'fleet:' || idempotency_key "
        "WHERE idempotency_key IS NOT NULL AND via IN ('schedule', 'approval')")
    conn.exec_driver_sql(
        "UPDATE invocations SET idempotency_key = CAST(LENGTH(caller) AS VARCHAR(8)) || ':' "
        "|| caller || ':' || idempotency_key "
        "WHERE idempotency_key IS NOT NULL AND via NOT IN ('schedule', 'approval')")


def _v11_usage(conn) -> None:
    """The resources each invocation declared (cpus, gpus): usage and cost per invocation.
    Earlier invocations have none and count as zero."""
    _add_column(conn, "invocations", "cpus", "FLOAT")
    _add_column(conn, "invocations", "gpus", "FLOAT")


def _v10_labels(conn) -> None:
    """Labels for logged predictions; a drift alert's pending action (alerts wait while
    the retrain or roll-back someone asked for is still being decided or run)."""
    schema.metadata.create_all(conn, tables=schema.V10_TABLES)
    _add_column(conn, "drift_alerts", "pending_action", "VARCHAR(40)")


def _v9_drift(conn) -> None:
    """Drift reports and alerts; a schedule's own catch-up limit (a drift check reads the
    last hour whenever it runs, so missed slots are one run, not one each)."""
    schema.metadata.create_all(conn, tables=schema.V9_TABLES)
    _add_column(conn, "schedules", "max_catchup", "INTEGER")


def _v8_outbox_deliveries(conn) -> None:
    """Per-consumer delivery state. The Slack bot is registered from the start, so what
    happens before it first runs waits for it; events already in the outbox were never
    consumed by anyone and are not replayed into Slack on upgrade."""
    schema.metadata.create_all(conn, tables=schema.V8_TABLES)
    conn.execute(insert(schema.outbox_consumers).values(name="slack", created_at=time.time()))


def _v6_retired_at(conn) -> None:
    """rollouts.retired_at: finished rollouts that retired what they left (or left nothing)
    get it now; the rest the controller retires on its next tick, whatever their age."""
    _add_column(conn, "rollouts", "retired_at", "FLOAT")
    r = schema.rollouts
    final = ("succeeded", "rolled_back", "failed")
    rows = conn.execute(select(r.c.id, r.c.state, r.c.updated_at).where(
        r.c.status.in_(final), r.c.retired_at.is_(None))).all()
    for rid, state, updated_at in rows:
        if (state or {}).get("retired") or not (state or {}).get("retire"):
            conn.execute(update(r).where(r.c.id == rid).values(retired_at=updated_at))


def _add_column(conn, table: str, column: str, sql_type: str) -> None:
    """ALTER TABLE ADD COLUMN, unless version 1 already created the table with it (the
    Table object always describes the newest schema)."""
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


@dataclass(frozen=True)
class Engines:
    write: Engine
    read: Engine
    dialect: str
    # The group writer's own (fleet.store.writer): one thread, one connection. On
    # PostgreSQL it has no pre-ping (a round trip per group; bench/gateway at c=1 paid two
    # per invocation): a connection found dead fails its group once, and the writer retries.
    batch: Engine | None = None
    # The group writers' queue on one SQLite file (fleet.store.writer_turn).
    turn: Callable[[], AbstractContextManager] = nullcontext


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    u = make_url(url)
    if u.database and u.database != ":memory:":
        from pathlib import Path

        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Writers wait in _begin_immediate below; SQLite's own busy handler backs off in
        # steps of up to 100 ms, which turned a 16-way burst into seconds of tail latency.
        cur.execute(f"PRAGMA busy_timeout={0 if immediate else 30000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if immediate:
            _begin_immediate(conn.connection.driver_connection)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _begin_immediate(dbapi_conn, timeout_s: float = LOCK_TIMEOUT_S) -> None:
    """Take SQLite's write lock, retrying every fraction of a millisecond (with jitter)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.0002
    while True:
        try:
            dbapi_conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, 0.004)


def make_engines(url: str) -> Engines:
    if url.startswith("sqlite"):
        database = make_url(url).database
        turn = WriterTurn(database) if database and database != ":memory:" else nullcontext
        return Engines(_sqlite_engine(url, True), _sqlite_engine(url, False), "sqlite",
                       turn=turn)
    kwargs = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        u = make_url(url)
        if u.drivername == "postgresql":  # psycopg 3 is the driver we ship
            url = u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, **kwargs)
    batch = create_engine(url, pool_size=1, max_overflow=1)
    return Engines(engine, engine, engine.dialect.name, batch)


def migrate(engines: Engines) -> int:
    """Bring the schema to SCHEMA_VERSION; safe to call from many processes at once."""
    with engines.write.begin() as conn:
        if engines.dialect == "postgresql":
            # One migrator at a time across processes.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(726300)")
        if not inspect(conn).has_table(schema.schema_version.name):
            schema.schema_version.create(conn)
        current = conn.execute(
            select(schema.schema_version.c.version).order_by(schema.schema_version.c.version.desc())
        ).scalar()
        current = current or 0
        for version in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](conn)
            conn.execute(insert(schema.schema_version).values(version=version,
                                                               applied_at=time.time()))
        return SCHEMA_VERSION


def dispose(engines: Engines) -> None:
    engines.write.dispose()
    for other in (engines.read, engines.batch):
        if other is not None and other is not engines.write:
            other.dispose()


__all__ = ["Engines", "SCHEMA_VERSION", "make_engines", "migrate", "dispose"]
