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
from fleet.config import Settings, load_settings
from fleet.drift.service import Drift
from fleet.endpoints import Endpoints
from fleet.identity import Identities, Identity, fleet_itself
from fleet.invocations import Invocations
from fleet.models import Models
from fleet.outbox import Outbox
from fleet.rollouts.service import Rollouts
from fleet.runs import Runs
from fleet.runtime import Client, context
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
        return Endpoints(self.store, self.settings)

    @cached_property
    def models(self) -> Models:
        return Models(self.store)

    @cached_property
    def runs(self) -> Runs:
        return Runs(self.store)

    @cached_property
    def rollouts(self) -> Rollouts:
        return Rollouts(self.store, self.settings)

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


def acting_as(caller: str, settings: Settings | None = None) -> tuple[Services, Identity]:
    """This installation's services and `caller` as the identity a running invocation acts
    as (Identities.of_caller: scopes and roles from Fleet's own records, never from a
    payload). For code that runs where the invocation's context does not reach (Ray Train's
    workers are handed the caller's name)."""
    svc = Services(Client(settings or load_settings()))
    return svc, Identities(svc.settings, svc.store).of_caller(caller)


def in_invocation(settings: Settings | None = None) -> tuple[Services, Identity]:
    """What a built-in function holds: the services, and its invocation's caller as the
    identity that every change is checked against and recorded with. Outside an
    invocation (a Serve app's replica, the server restoring apps): Fleet itself."""
    ctx = context.current()
    if ctx is None:
        return Services(Client(settings or load_settings())), fleet_itself()
    return acting_as(ctx.caller, settings)


__all__ = ["Services", "acting_as", "in_invocation"]
