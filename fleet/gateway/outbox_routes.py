"""The outbox over HTTP, for notifiers (the Slack bot) that run as their own processes:
claim deliveries under a lease, report each one delivered or failed, and, for an admin,
list dead letters and replay them. Tokens need the `notify` scope (admin implies it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from fleet.gateway.auth import Identity, TokenAuth
from fleet.names import CONSUMER_NAME
from fleet.outbox import STATES, Outbox

State = Literal[STATES]  # type: ignore[valid-type]

CONSUMER = Path(pattern=CONSUMER_NAME, description="e.g. slack")
EVENT = Path(ge=1, le=2**63 - 1)


class ClaimIn(BaseModel):
    holder: str = Field(min_length=1, max_length=128,
                        description="Who claims: unique per notifier process.")
    limit: int = Field(50, ge=1, le=500)
    lease_s: float = Field(30.0, ge=0.1, le=3600,
                           description="After this, another notifier may claim them.")


class DeliveredIn(BaseModel):
    holder: str = Field(min_length=1, max_length=128)
    result: dict[str, Any] | None = Field(None, description="What it became (e.g. a message).")
    thread: dict[str, Any] | None = Field(
        None, description="The subject's own message, updated in place by later events.")


class FailedIn(BaseModel):
    holder: str = Field(min_length=1, max_length=128)
    error: str = Field(min_length=1, max_length=4000)
    retry_after_s: float | None = Field(None, ge=0, le=86_400,
                                        description="The receiver's Retry-After, if any.")


# An event id: a positive integer the store can hold (true/false and 1e20 are refused with
# a 422 naming the field, not taken as 1 or overflowing the database into a 500). The bound
# is 2**53 - 1, not the database's 2**63 - 1: a client that reads JSON numbers as doubles
# (JavaScript, and JSON Schema validators) holds every integer up to it exactly, and above it
# 2**63 + 191 and 2**63 - 1 are the same double, so the documented bound could not be kept.
EventId = Annotated[int, Field(strict=True, ge=1, le=2**53 - 1)]


class ReleaseIn(BaseModel):
    holder: str = Field(min_length=1, max_length=128)
    event_ids: list[EventId] = Field(max_length=500)


class ReplayIn(BaseModel):
    event_ids: list[EventId] | None = Field(None, max_length=1000,
                                            description="Omit to replay every dead letter.")


def outbox_router(outbox: Outbox, auth: TokenAuth) -> APIRouter:
    notify, read, admin = (auth.require(s) for s in ("notify", "read", "admin"))
    router = APIRouter(tags=["outbox"])

    @router.get("/v1/outbox")
    def recent(after_id: int = Query(0, ge=0, le=2**63 - 1),
               limit: int = Query(100, ge=1, le=1000),
               subject: str | None = Query(None, max_length=256),
               who: Identity = Depends(read)) -> dict:
        """The newest events, oldest first, each with its delivery state per consumer."""
        return {"events": outbox.recent(who, after_id=after_id, limit=limit,
                                        subject=subject)}

    @router.get("/v1/outbox/{consumer}/deliveries")
    def deliveries(consumer: str = CONSUMER, state: State | None = Query(None),
                   limit: int = Query(100, ge=1, le=1000),
                   who: Identity = Depends(read)) -> dict:
        """Delivery rows, newest first; `state=dead` lists the dead letters."""
        return {"deliveries": outbox.deliveries(who, consumer=consumer, state=state,
                                                limit=limit)}

    @router.post("/v1/outbox/{consumer}/claim")
    def claim(body: ClaimIn, consumer: str = CONSUMER, who: Identity = Depends(notify)
              ) -> dict:
        """Deliveries for `holder`, in order per subject, each with its subject's message."""
        return {"events": outbox.claim(who, consumer, body.holder, limit=body.limit,
                                       lease_s=body.lease_s)}

    @router.post("/v1/outbox/{consumer}/events/{event_id}/delivered")
    def delivered(body: DeliveredIn, consumer: str = CONSUMER, event_id: int = EVENT,
                  who: Identity = Depends(notify)) -> dict:
        outbox.delivered(who, consumer, event_id, body.holder, result=body.result,
                         thread=body.thread)
        return {"event_id": event_id, "state": "delivered"}

    @router.post("/v1/outbox/{consumer}/events/{event_id}/failed")
    def failed(body: FailedIn, consumer: str = CONSUMER, event_id: int = EVENT,
               who: Identity = Depends(notify)) -> dict:
        out = outbox.failed(who, consumer, event_id, body.holder, error=body.error,
                            retry_after_s=body.retry_after_s)
        return {"event_id": event_id, **out}

    @router.post("/v1/outbox/{consumer}/release")
    def release(body: ReleaseIn, consumer: str = CONSUMER,
                who: Identity = Depends(notify)) -> dict:
        return {"released": outbox.release(who, consumer, body.event_ids, body.holder)}

    @router.post("/v1/outbox/{consumer}/replay")
    def replay(body: ReplayIn | None = None, consumer: str = CONSUMER,
               who: Identity = Depends(admin)) -> dict:
        """Dead letters back to pending, attempts reset (audited)."""
        ids = body.event_ids if body else None
        return {"replayed": outbox.replay(who, consumer, ids)}

    return router
