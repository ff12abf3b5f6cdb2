"""Fleet's durable state: one `Store` over SQLite (default) or PostgreSQL.

    store = open_store(settings.resolved_store_url)
    inv, created = store.invocations.create(...)
"""

from __future__ import annotations

import threading

from sqlalchemy.exc import OperationalError

from fleet import messages
from fleet.errors import Unavailable
from fleet.store import audit
from fleet.store.alerts import AlertRepo
from fleet.store.approvals import Approval, ApprovalRepo
from fleet.store.audit import AuditRepo
from fleet.store.drift import DriftRepo
from fleet.store.endpoints import Endpoint, EndpointRepo
from fleet.store.engine import SCHEMA_VERSION, Engines, dispose, make_engines, migrate
from fleet.store.invocations import DURATION_BUCKETS, InvocationRepo
from fleet.store.kv import KeyValueRepo
from fleet.store.labels import LabelRepo
from fleet.store.leases import Lease, LeaseRepo
from fleet.store.models import ModelRepo, ModelVersion
from fleet.store.outbox import OutboxRepo
from fleet.store.records import ACTIVE, ENTRY_POINTS, TERMINAL, Invocation, Status
from fleet.store.replica_usage import ReplicaUsageRepo
from fleet.store.rollouts import ACTIVE_STATUSES, FINAL_STATUSES, Change, Rollout, RolloutRepo
from fleet.store.runs import Run, RunRepo
from fleet.store.schedules import Schedule, ScheduleRepo
from fleet.store.tokens import StoredToken, TokenRepo, token_hash

__all__ = [
    "ACTIVE", "ACTIVE_STATUSES", "DURATION_BUCKETS", "ENTRY_POINTS", "FINAL_STATUSES", "Lease",
    "SCHEMA_VERSION", "TERMINAL", "Approval", "Change", "Endpoint", "Invocation",
    "ModelVersion", "Rollout", "Run", "Schedule", "Status", "Store", "StoredToken", "open_store",
    "token_hash",
]


class Store:
    """The repositories over one pair of engines."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engines: Engines = make_engines(url)
            self.schema_version = migrate(self.engines)
        except OperationalError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            raise Unavailable(messages.STORE_UNAVAILABLE.format(reason=reason)) from None
        self.invocations = InvocationRepo(self.engines)
        self.schedules = ScheduleRepo(self.engines)
        self.runs = RunRepo(self.engines)
        self.models = ModelRepo(self.engines)
        self.endpoints = EndpointRepo(self.engines)
        self.rollouts = RolloutRepo(self.engines)
        self.approvals = ApprovalRepo(self.engines)
        self.outbox = OutboxRepo(self.engines)
        self.tokens = TokenRepo(self.engines)
        self.kv = KeyValueRepo(self.engines)
        self.leases = LeaseRepo(self.engines)
        self.replica_usage = ReplicaUsageRepo(self.engines)
        self.drift = DriftRepo(self.engines)
        self.labels = LabelRepo(self.engines)
        self.alerts = AlertRepo(self.engines)
        self.audit = AuditRepo(self.engines)

    @property
    def dialect(self) -> str:
        return self.engines.dialect

    def audit_entries(self, *, target: str | None = None, limit: int = 100) -> list[dict]:
        with self.engines.read.connect() as conn:
            return audit.entries(conn, target=target, limit=limit)

    def close(self) -> None:
        dispose(self.engines)


_stores: dict[str, Store] = {}
_lock = threading.Lock()


def open_store(url: str) -> Store:
    """One Store per URL per process (engines are pools; share them)."""
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store


def close_all() -> None:
    with _lock:
        for s in _stores.values():
            s.close()
        _stores.clear()
