"""Invocation rows: create (idempotently), compare-and-set transitions, queries, aggregates."""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import bindparam, case, func, insert, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fleet import messages
from fleet.errors import Conflict, NotFound
from fleet.names import unscoped_key
from fleet.store import audit
from fleet.store.bulk import Bulk
from fleet.store.engine import Engines
from fleet.store.ids import find_row
from fleet.store.records import ACTIVE, Invocation, Status, sources_of
from fleet.store.schema import invocations as T

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


def _at_least(column, value: int):
    """max(column, value) in SQL that SQLite and PostgreSQL both read."""
    return case((column > value, column), else_=value)


def _create_audit(row: dict) -> dict:
    """The audit entry of a create, the same whichever path inserted the row."""
    return dict(actor=row["caller"], action="invocation.create", target=row["id"],
                detail={"function": row["function"], "via": row["via"],
                        "idempotency_key": row["idempotency_key"]})


def new_id() -> str:
    """`inv_` and 32 hex digits: the milliseconds of the clock modulo 2**24 (4.6 hours), then
    104 random bits.

    Why not uuid4: the id is the table's primary key, and random keys put every insert on
    a different page of its index. A group commit of 30 creates then wrote 30 scattered
    pages to SQLite's WAL (and checkpointed them back): bench/invocation_ids measured 73 us
    of CPU per invocation's insert, audit row and finish through this store, against 39 us
    with ids that rise with the clock (a 100,000-row table). The clock part is short
    and wraps, so the ids of one list still differ within the first digits and lists can
    keep showing a 12-character prefix (fleet.names.short_ids); the random part keeps an
    id unguessable."""
    return f"inv_{(time.time_ns() // 1_000_000) & 0xFFFFFF:06x}{secrets.token_hex(13)}"


# Every terminal status except cancel is reached from queued or running (records.TRANSITIONS).
_FINISH = Bulk(
    update(T)
    .where(T.c.id == bindparam("b_id"),
           or_(T.c.status == literal_column(f"'{Status.QUEUED.value}'"),
               T.c.status == literal_column(f"'{Status.RUNNING.value}'")))
    .values(status=bindparam("b_status"), result=bindparam("b_result", type_=T.c.result.type),
            error_type=bindparam("b_error_type"), error_message=bindparam("b_error_message"),
            error_traceback=bindparam("b_error_traceback"),
            finished_at=bindparam("b_finished_at"),
            duration_s=bindparam("b_finished_at") - func.coalesce(
                T.c.started_at, bindparam("b_started_at"), T.c.created_at),
            started_at=func.coalesce(T.c.started_at, bindparam("b_started_at")),
            attempts=case((T.c.attempts > bindparam("b_attempts"), T.c.attempts),
                          else_=bindparam("b_attempts")))
)
_INSERT = Bulk(insert(T).values({c.name: bindparam(c.name, type_=c.type) for c in T.columns}))


class InvocationRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    @staticmethod
    def new_row(*, function: str, payload: Any, caller: str, via: str, timeout_s: float,
                retries: int, idempotency_key: str | None = None,
                ray_job_id: str | None = None, cpus: float | None = None,
                gpus: float | None = None, owner: str | None = None) -> dict:
        return dict(id=new_id(), function=function, status=Status.QUEUED.value, via=via,
                    caller=caller, idempotency_key=idempotency_key, ray_job_id=ray_job_id,
                    payload=payload, attempts=0, timeout_s=timeout_s, retries=retries,
                    created_at=time.time(), cpus=cpus, gpus=gpus, owner=owner)

    @staticmethod
    def insert_op(row: dict):
        """The create as an operation on an open transaction (for the group writer).

        Returns True when inserted; False when the idempotency key exists already (INSERT
        ... ON CONFLICT DO NOTHING, so a duplicate key never aborts a group)."""
        def op(conn) -> bool:
            if row["idempotency_key"] is None:
                conn.execute(insert(T).values(**row))
            else:
                ins = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
                stmt = ins(T).values(**row).on_conflict_do_nothing(
                    index_elements=[T.c.idempotency_key]).returning(T.c.id)
                if conn.execute(stmt).first() is None:
                    return False
            audit.record(conn, **_create_audit(row))
            return True

        return op

    # -- batched kinds for the group writer: one executemany per kind per commit

    @staticmethod
    def insert_batch(conn, rows: list[dict]) -> list[bool]:
        """Insert rows without an idempotency key (keyed ones go through `insert_op`)."""
        _INSERT.run(conn, rows)
        audit.record_many(conn, [_create_audit(r) for r in rows])
        return [True] * len(rows)

    @staticmethod
    def outcome_item(inv_id: str, status: Status, *, result: Any = None,
                     error_type: str | None = None, error_message: str | None = None,
                     error_traceback: str | None = None, attempts: int = 0,
                     started_at: float | None = None,
                     finished_at: float | None = None) -> dict:
        """A terminal move from queued|running for `finish_batch` (no cancel: it audits)."""
        assert status.terminal and status is not Status.CANCELLED
        return dict(b_id=inv_id, b_status=status.value, b_result=result,
                    b_error_type=error_type, b_error_message=error_message,
                    b_error_traceback=error_traceback, b_attempts=attempts,
                    b_started_at=started_at, b_finished_at=finished_at or time.time())

    @staticmethod
    def finish_batch(conn, items: list[dict]) -> list[bool]:
        """Compare-and-set many terminal moves in one executemany; True where it won."""
        if _FINISH.run(conn, items) == len(items):
            return [True] * len(items)
        # Some lost a race (a cancel, a timeout): each winner's row now holds its own
        # status and finish time, which no other writer wrote.
        ids = [i["b_id"] for i in items]
        got = {r.id: (r.status, r.finished_at) for r in conn.execute(
            select(T.c.id, T.c.status, T.c.finished_at).where(T.c.id.in_(ids)))}
        return [got.get(i["b_id"]) == (i["b_status"], i["b_finished_at"]) for i in items]

    def created(self, row: dict, inserted: bool) -> tuple[Invocation, bool]:
        """The record for a create: the new one, or the earlier one with the same key (a key
        reused for another function is a conflict, not a silent match)."""
        if inserted:
            return Invocation.from_mapping(row), True
        key = unscoped_key(row["idempotency_key"])  # as its maker gave it
        earlier = self.by_idempotency_key(row["idempotency_key"])
        if earlier is None:  # deleted in between: extremely unlikely, surface it
            raise Conflict(messages.IDEMPOTENCY_KEY_REUSED.format(
                key=key, other="an invocation that no longer exists"))
        if earlier.function != row["function"]:
            raise Conflict(messages.IDEMPOTENCY_KEY_REUSED.format(
                key=key, other=earlier.function))
        return earlier, False

    def create(self, *, function: str, payload: Any, caller: str, via: str,
               timeout_s: float, retries: int, idempotency_key: str | None = None,
               ray_job_id: str | None = None) -> tuple[Invocation, bool]:
        """Insert a queued invocation, audited, in a transaction of its own. With a known
        idempotency key, return the earlier invocation instead (created=False)."""
        return self.insert(self.new_row(function=function, payload=payload, caller=caller,
                                        via=via, timeout_s=timeout_s, retries=retries,
                                        idempotency_key=idempotency_key,
                                        ray_job_id=ray_job_id))

    def insert(self, row: dict) -> tuple[Invocation, bool]:
        """Insert a row from `new_row` in a transaction of its own; see `created`."""
        with self._e.write.begin() as conn:
            inserted = self.insert_op(row)(conn)
        return self.created(row, inserted)

    def by_idempotency_key(self, key: str) -> Invocation | None:
        """By the key as stored (fleet.names.scoped_key: whose key it is, then the key)."""
        with self._e.read.connect() as conn:
            r = conn.execute(select(T).where(T.c.idempotency_key == key)).first()
        return Invocation.from_row(r) if r else None

    def get(self, inv_id: str) -> Invocation:
        """By id, or by a unique prefix of one."""
        with self._e.read.connect() as conn:
            r = find_row(conn, T, T.c.id, inv_id, "invocation")
        if r is None:
            raise NotFound(messages.UNKNOWN_INVOCATION.format(id=inv_id))
        return Invocation.from_row(r)

    def list(self, *, function: str | None = None, status: str | None = None,
             via: str | None = None, limit: int = 50) -> list[Invocation]:
        q = select(T).order_by(T.c.created_at.desc()).limit(limit)
        if function:
            q = q.where(T.c.function == function)
        if status:
            q = q.where(T.c.status == status)
        if via:
            q = q.where(T.c.via == via)
        with self._e.read.connect() as conn:
            return [Invocation.from_row(r) for r in conn.execute(q)]

    def active(self) -> list[Invocation]:
        q = select(T).where(T.c.status.in_([s.value for s in ACTIVE]))
        with self._e.read.connect() as conn:
            return [Invocation.from_row(r) for r in conn.execute(q)]

    def adopt(self, inv_id: str, owner: str | None, new_owner: str, fence=None) -> bool:
        """Take an active invocation over from `owner` (an instance that is gone):
        compare-and-set on the owner, so of two adopters one wins; `fence`: a WHERE clause
        that holds only while the adopter still holds the sweep's lease."""
        was = T.c.owner.is_(None) if owner is None else T.c.owner == owner
        q = update(T).where(T.c.id == inv_id, was,
                            T.c.status.in_([s.value for s in ACTIVE]))
        if fence is not None:
            q = q.where(fence)
        with self._e.write.begin() as conn:
            return conn.execute(q.values(owner=new_owner)).rowcount == 1

    def mark_running(self, inv_id: str, attempt: int | None = None,
                     started_at: float | None = None) -> int | None:
        """A worker starts an attempt: queued|running -> running, attempts + 1 (or the
        attempt number the worker knows, if larger).

        Returns the attempt number, or None if the invocation already ended (cancelled
        while it waited for resources), in which case the worker must not run it."""
        now = started_at or time.time()
        attempts = T.c.attempts + 1 if attempt is None else _at_least(T.c.attempts, attempt)
        with self._e.write.begin() as conn:
            res = conn.execute(
                update(T)
                .where(T.c.id == inv_id, T.c.status.in_(sources_of(Status.RUNNING)))
                .values(status=Status.RUNNING.value, attempts=attempts,
                        started_at=func.coalesce(T.c.started_at, now))
                .returning(T.c.attempts)
            ).first()
        return res[0] if res else None

    def finish(self, inv_id: str, status: Status, *, result: Any = None,
               error_type: str | None = None, error_message: str | None = None,
               error_traceback: str | None = None, actor: str | None = None,
               only_from: tuple[Status, ...] | None = None) -> bool:
        """Move to a terminal status if the invocation is still active (compare-and-set).

        Returns False when another party ended it first (e.g. cancel raced completion);
        the first writer wins and the loser changes nothing. `only_from` narrows the
        allowed sources (a timeout says "never started" only if it is still queued)."""
        op = self.finish_op(inv_id, status, result=result, error_type=error_type,
                            error_message=error_message, error_traceback=error_traceback,
                            actor=actor, only_from=only_from)
        with self._e.write.begin() as conn:
            return op(conn) is not None

    @staticmethod
    def finish_op(inv_id: str, status: Status, *, result: Any = None,
                  error_type: str | None = None, error_message: str | None = None,
                  error_traceback: str | None = None, actor: str | None = None,
                  only_from: tuple[Status, ...] | None = None, attempts: int | None = None,
                  started_at: float | None = None, finished_at: float | None = None,
                  fence=None):
        """`finish` as an operation on an open transaction (for the group writer). It
        returns the finished record, or None when another party ended it first, or when
        `fence` (fleet.store.leases.fenced) no longer holds.

        A worker that ran a short function returns its outcome instead of writing it; the
        supervisor then records it with the worker's own `started_at`/`finished_at` and
        attempt number (`attempts` only ever grows)."""
        assert status.terminal
        sources = sources_of(status)
        if only_from is not None:
            sources = tuple(s for s in sources if Status(s) in only_from)

        def op(conn) -> Invocation | None:
            now = finished_at or time.time()
            start = func.coalesce(T.c.started_at, started_at) if started_at else \
                func.coalesce(T.c.started_at, T.c.created_at)
            values = dict(status=status.value, result=result, error_type=error_type,
                          error_message=error_message, error_traceback=error_traceback,
                          finished_at=now, duration_s=now - start,
                          cancel_requested_by=actor if status is Status.CANCELLED else None)
            if started_at:
                values["started_at"] = func.coalesce(T.c.started_at, started_at)
            if attempts is not None:
                values["attempts"] = _at_least(T.c.attempts, attempts)
            where = [T.c.id == inv_id, T.c.status.in_(sources)]
            if fence is not None:
                where.append(fence)
            row = conn.execute(update(T).where(*where).values(**values)
                               .returning(*T.c)).first()
            if row is None:
                return None
            if status is Status.CANCELLED and actor:
                audit.record(conn, actor=actor, action="invocation.cancel", target=inv_id)
            return Invocation.from_row(row)

        return op

    def set_progress(self, inv_id: str, progress: dict) -> bool:
        """Store what a running invocation says of itself; False once it has ended."""
        with self._e.write.begin() as conn:
            res = conn.execute(update(T).where(T.c.id == inv_id,
                                               T.c.status == Status.RUNNING.value)
                               .values(progress=progress))
            return res.rowcount == 1

    # -- aggregates for /metrics: derived from the store, so they cover every entry point
    #    and every process, and survive restarts of the gateway.

    def counts(self) -> list[tuple[str, str, str, int]]:
        q = select(T.c.function, T.c.status, T.c.via, func.count()).group_by(
            T.c.function, T.c.status, T.c.via)
        with self._e.read.connect() as conn:
            return [tuple(r) for r in conn.execute(q)]

    def usage(self, *, by: str = "function", since: float | None = None,
              until: float | None = None) -> list[dict[str, Any]]:
        """Resource-seconds of finished invocations (declared CPUs and GPUs times run
        time) per function or per caller, largest first; `since`/`until` by finish time."""
        key = {"function": T.c.function, "caller": T.c.caller}[by]
        cpu_s = func.sum(func.coalesce(T.c.cpus, 0.0) * T.c.duration_s)
        gpu_s = func.sum(func.coalesce(T.c.gpus, 0.0) * T.c.duration_s)
        q = (select(key.label("key"), func.count().label("invocations"),
                    func.sum(T.c.duration_s).label("run_s"), cpu_s.label("cpu_s"),
                    gpu_s.label("gpu_s"))
             .where(T.c.duration_s.is_not(None)).group_by(key).order_by(cpu_s.desc()))
        if since is not None:
            q = q.where(T.c.finished_at >= since)
        if until is not None:
            q = q.where(T.c.finished_at < until)
        with self._e.read.connect() as conn:
            return [{by: r.key, "invocations": int(r.invocations),
                     "run_s": float(r.run_s or 0), "cpu_s": float(r.cpu_s or 0),
                     "gpu_s": float(r.gpu_s or 0)} for r in conn.execute(q)]

    def duration_histogram(self) -> list[tuple[str, list[int], int, float]]:
        """Per function: cumulative bucket counts, total count and sum of finished runs."""
        cols = [func.sum(case((T.c.duration_s <= b, 1), else_=0)) for b in DURATION_BUCKETS]
        q = (select(T.c.function, *cols, func.count(), func.sum(T.c.duration_s))
             .where(T.c.duration_s.is_not(None)).group_by(T.c.function))
        with self._e.read.connect() as conn:
            out = []
            for r in conn.execute(q):
                out.append((r[0], [int(x or 0) for x in r[1:-2]], int(r[-2]), float(r[-1] or 0)))
            return out
