"""Alertmanager's webhook: POST /v1/alerts/alertmanager (cluster/alertmanager points its
receiver here). Firing and resolved alerts become outbox events, which the bot's
notifier posts to Slack like Fleet's own notifications: retried while Slack is down,
never twice, and an endpoint's alert with its Retrain and Roll back buttons. Needs a token
with the `notify` scope (Alertmanager reads it from a file, a mounted Secret)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from fleet.drift.service import Drift
from fleet.gateway.auth import Identity, TokenAuth


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=64)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=64)
    startsAt: str = Field(max_length=64)  # noqa: N815 (Alertmanager's field names)
    endsAt: str | None = Field(None, max_length=64)  # noqa: N815
    generatorURL: str | None = Field(None, max_length=2000)  # noqa: N815
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-zA-Z]+$")


class WebhookIn(BaseModel):
    """Alertmanager's webhook body (version 4); fields Fleet does not use are ignored."""

    model_config = ConfigDict(extra="ignore")
    version: str = "4"
    status: Literal["firing", "resolved"]
    receiver: str = Field("", max_length=200)
    externalURL: str | None = Field(None, max_length=2000)  # noqa: N815
    # cluster/alertmanager sends at most 100 per post (max_alerts); 200 stays well inside
    # the gateway's body limit, so an over-long list is a 422 naming it, not a 413
    alerts: list[AlertIn] = Field(max_length=200)


def alert_router(drift: Drift, auth: TokenAuth) -> APIRouter:
    notify = auth.require("notify")
    router = APIRouter(tags=["alerts"])

    @router.post("/v1/alerts/alertmanager")
    def alertmanager(body: WebhookIn, who: Identity = Depends(notify)) -> dict:
        """Record the group's alerts that started firing or resolved (repeats are no-ops)."""
        events = drift.receive_alerts(who, [a.model_dump() for a in body.alerts],
                                      external_url=body.externalURL)
        return {"received": len(body.alerts), "events": events}

    return router
