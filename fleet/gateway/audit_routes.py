"""The audit trail over HTTP (the admin scope or the auditor role): state changes,
filtered by resource, actor, action and time; what served an endpoint at a given time; and
a check of the hash chain that names an edited or deleted row."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from fleet.audit_trail import AuditTrail
from fleet.gateway.auth import Identity, TokenAuth
from fleet.names import ENDPOINT_NAME

TIME = ("A time (2026-12-07T14:30:00Z; UTC unless it names a zone), an epoch in seconds, or "
        "how long ago (30m, 2h, 7d).")


def audit_router(audit: AuditTrail, auth: TokenAuth) -> APIRouter:
    read = auth.require("read")
    router = APIRouter(tags=["audit"])

    @router.get("/v1/audit")
    def entries(resource: str | None = Query(None, max_length=256,
                                             description="e.g. endpoint:churn, model:churn"),
                actor: str | None = Query(None, max_length=128),
                action: str | None = Query(None, max_length=64,
                                           description="e.g. endpoint.routing, or endpoint"),
                since: str | None = Query(None, max_length=40, description=TIME),
                until: str | None = Query(None, max_length=40, description=TIME),
                limit: int = Query(100, ge=1, le=1000),
                who: Identity = Depends(read)) -> dict:
        """State changes, newest first: who, as whom, what, and its details."""
        return {"entries": audit.entries(who, resource=resource, actor=actor, action=action,
                                         since=since, until=until, limit=limit)}

    @router.get("/v1/audit/verify")
    def verify(who: Identity = Depends(read)) -> dict:
        """Recompute the hash chain: `ok`, and each edited or deleted row by id."""
        return audit.verify(who)

    @router.get("/v1/audit/serving/{endpoint}")
    def serving(endpoint: str = Path(pattern=ENDPOINT_NAME),
                at: str | None = Query(None, max_length=40, description=TIME),
                who: Identity = Depends(read)) -> dict:
        """What served the endpoint at `at` (default now), since when, set by whom, and the
        approvals behind it."""
        return audit.serving(who, endpoint, at)

    return router
