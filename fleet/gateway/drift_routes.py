"""Drift over HTTP: an endpoint's latest report and its history, a report's plots (PNG),
and what a person can do about an alert (retrain or roll back, each behind an approval;
snooze). Reading needs `read`; acting needs `invoke` and is done as the caller (the Slack
bot calls these on behalf of the person who pressed the button)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fleet.drift.service import Drift
from fleet.gateway.auth import Identity, TokenAuth
from fleet.names import ENDPOINT_NAME

ENDPOINT = Path(pattern=ENDPOINT_NAME, description="The endpoint's name.")


class SnoozeIn(BaseModel):
    hours: float = Field(ge=0, le=720, description="Hold alerts this long; 0 lifts it.")


def drift_router(drift: Drift, settings, auth: TokenAuth) -> APIRouter:
    from fleet.artifacts import ArtifactStore

    artifacts = ArtifactStore(settings)
    read, invoke = auth.require("read"), auth.require("invoke")
    router = APIRouter(tags=["drift"])

    @router.get("/v1/drift/{endpoint}")
    def latest(endpoint: str = ENDPOINT, who: Identity = Depends(read)) -> dict:
        """The endpoint's newest report: per column method, score, threshold, verdict, PSI;
        and its alert state (open alert, snooze)."""
        return {"report": drift.latest(who, endpoint), "alert": drift.alert(who, endpoint)}

    @router.get("/v1/drift/{endpoint}/history")
    def history(endpoint: str = ENDPOINT, limit: int = Query(50, ge=1, le=1000),
                who: Identity = Depends(read)) -> dict:
        """Scores over time, oldest first."""
        return {"endpoint": endpoint, "reports": drift.history(who, endpoint, limit=limit)}

    @router.get("/v1/drift/{endpoint}/reports/{report_id}")
    def report(endpoint: str = ENDPOINT, report_id: str = Path(max_length=40),
               who: Identity = Depends(read)) -> dict:
        return {"report": drift.report(who, endpoint, report_id)}

    @router.get("/v1/drift/{endpoint}/reports/{report_id}/plots/{name}",
                response_class=Response,
                responses={200: {"content": {"image/png": {}}}})
    def plot(endpoint: str = ENDPOINT, report_id: str = Path(max_length=40),
             name: str = Path(max_length=128), who: Identity = Depends(read)) -> Response:
        """A report's plot as PNG: `summary`, or a drifted column's name."""
        uri = drift.plot_uri(who, endpoint, report_id, name)
        return Response(artifacts.get_bytes(uri), media_type="image/png")

    @router.post("/v1/drift/{endpoint}/actions/{action}", status_code=201)
    def act(endpoint: str = ENDPOINT, action: Literal["retrain", "rollback"] = Path(),
            who: Identity = Depends(invoke)) -> dict:
        """Ask to retrain or roll back: opens an approval that runs it once approved (by
        someone else with the approver role), and answers the endpoint's open alert."""
        return {"approval": drift.request(who, endpoint, action).public()}

    @router.post("/v1/drift/{endpoint}/snooze")
    def snooze(body: SnoozeIn, endpoint: str = ENDPOINT,
               who: Identity = Depends(invoke)) -> dict:
        return {"alert": drift.snooze(who, endpoint, body.hours)}

    return router
