"""Every concept's service over one installation, in one object: what the entry points (the
gateway's routes, the CLI, the demo) hold instead of repositories.

Each service's public methods take the acting identity first and are the one home of that
concept's rules (docs/architecture.md has the table: concept, service, tables, entry
points). The services share the client's store and registry; building this object opens
nothing."""

from __future__ import annotations

from functools import cached_property

from fleet.approvals import Approvals
from fleet.audit_trail import AuditTrail
from fleet.drift.service import Drift
from fleet.endpoints import Endpoints
from fleet.identity import Identity
from fleet.invocations import Invocations
from fleet.models import Models
from fleet.outbox import Outbox
from fleet.runtime import Client
from fleet.schedules import Schedules
from fleet.telemetry import StoreCollector
from fleet.tokens import Tokens
from fleet.usage import Usage


class Services:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.settings = client.settings

    @property
    def store(self):
        return self.client.store

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.store)

    @cached_property
    def invocations(self) -> Invocations:
        return Invocations(self.client)

    @cached_property
    def approvals(self) -> Approvals:
        return Approvals(self.store, self.settings, invoke=self.client.invoke)

    @cached_property
    def schedules(self) -> Schedules:
        return Schedules(self.store, self.client.registry, client=self.client)

    @cached_property
    def endpoints(self) -> Endpoints:
        return Endpoints(self.store)

    @cached_property
    def models(self) -> Models:
        return Models(self.store)

    @cached_property
    def tokens(self) -> Tokens:
        return Tokens(self.store)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.store, self.settings)

    @cached_property
    def drift(self) -> Drift:
        return Drift(self.store, self.settings)

    def backup(self, who: Identity, dest, *, overwrite: bool = False) -> dict:
        """Copy the store, while Fleet runs, to `dest` (SQLite; PostgreSQL: pg_dump). The
        admin scope: a backup holds every invocation's input and result."""
        from fleet.store.backup import backup

        who.require("admin")
        return backup(self.settings.resolved_store_url, dest, overwrite=overwrite)

    @cached_property
    def telemetry(self) -> StoreCollector:
        """The store's Prometheus metrics (what /metrics serves), cached briefly."""
        return StoreCollector(self.store)

    @cached_property
    def usage(self) -> Usage:
        return Usage(self.store, self.settings)


__all__ = ["Services"]
