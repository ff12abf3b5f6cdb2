"""The HTTP gateway: a FastAPI app over the one invoke path.

It runs on the supervisor actor's event loop (fleet.runtime.supervisor serves it with
uvicorn, so an invocation reaches the supervisor without a hop), or as a Ray Serve ingress
(serve_apps.gateway). docs/architecture.md says why the first is the
default: the figures in bench/gateway.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleet import messages
from fleet.config import Settings, load_settings
from fleet.durations import DURATION_PATTERN
from fleet.errors import FieldProblem, FleetError, InvalidInput
from fleet.gateway.alert_routes import alert_router
from fleet.gateway.audit_routes import audit_router
from fleet.gateway.auth import Identity, TokenAuth
from fleet.gateway.drift_routes import drift_router
from fleet.gateway.fast_path import FastInvoke, parse_body
from fleet.gateway.limits import BodyLimit
from fleet.gateway.metrics import GatewayMetrics, RequestCounter
from fleet.gateway.outbox_routes import outbox_router
from fleet.gateway.problems import (
    PROBLEM_RESPONSES,
    fleet_error_handler,
    http_error_handler,
    internal_error_handler,
    request_validation_handler,
)
from fleet.invocations import Invocation
from fleet.names import ALIAS_NAME, MAX_IDEMPOTENCY_KEY
from fleet.runtime import Client
from fleet.services import Services


class AliasIn(BaseModel):
    # a version the store can hold (2**53 - 1: see outbox_routes.EventId); -2**87 was a 500
    version: int | None = Field(ge=1, le=2**53 - 1, strict=True,
                                description="Version to point at; null removes the alias.")
    reason: str = Field(min_length=1, description="Why; kept in the alias history.")


class DecisionIn(BaseModel):
    comment: str = Field("", max_length=2000, description="Kept with the decision.")


class FlaggerIn(BaseModel):
    """What Flagger sends to a confirm-* webhook (its CanaryWebhookPayload)."""

    name: str = Field(min_length=1, max_length=253)
    namespace: str = Field(min_length=1, max_length=253)
    phase: str = ""
    checksum: str = Field("", max_length=200)
    metadata: dict[str, str] = Field(default_factory=dict,
                                     description="Carries fleet_token: a Fleet token "
                                                 "(invoke scope) the request is opened as.")


FLAGGER_GATES = {"confirm-rollout": "start", "confirm-traffic-increase": "step",
                 "confirm-promotion": "promotion"}


class ScheduleIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    function: str
    schedule: str
    input: dict[str, Any] = Field(default_factory=dict)


# Invoke and spawn take the function's own input (its schema: GET /v1/functions/NAME).
ANY_INPUT = {"requestBody": {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": True,
    "description": "The function's input; its schema is at GET /v1/functions/{name}."}}}}}
IDEMPOTENCY_KEY = Header(None, max_length=MAX_IDEMPOTENCY_KEY,
                         description="Repeat a request safely: the same key returns the "
                                     "first invocation.")


def _record(inv: Invocation, status_code: int = 200) -> JSONResponse:
    headers = {"Location": f"/v1/invocations/{inv.id}"}
    return JSONResponse(inv.public(), status_code=status_code, headers=headers)


def create_app(settings: Settings | None = None, client: Client | None = None,
               peers=None) -> FastAPI:
    """The gateway. It runs on the supervisor's event loop, so a handler that touches the
    store (or anything that can wait) is a plain `def`, which FastAPI runs in its thread
    pool; `async def` handlers await everything slow (ainvoke moves its store calls to
    threads). A SQLite writer waiting for the lock then stalls only its own request.

    `peers`: an async callable giving the other gateway instances' request counters, which
    /metrics sums with this one's (None when alone)."""
    settings = settings or load_settings()
    client = client or Client(settings)
    svc = Services(client)
    auth = TokenAuth(settings, client.store)
    approvals = svc.approvals
    metrics = GatewayMetrics(svc.telemetry)
    gw = settings.gateway
    read, invoke_scope, admin = (auth.require(s) for s in ("read", "invoke", "admin"))

    app = FastAPI(title="Fleet gateway", version="1", responses=PROBLEM_RESPONSES,
                  description="Invoke Fleet functions over HTTP. Errors are RFC 9457 problem "
                              "documents that name the field and the fix.")
    app.add_exception_handler(FleetError, fleet_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(Exception, internal_error_handler)

    # JSON schemas take ~1 ms a function to build, on the event loop; the registry is fixed
    # for the life of the server, so build each once.
    schemas: dict[str, dict] = {}
    schedules = svc.schedules

    def described(name: str) -> dict:
        if name not in schemas:
            schemas[name] = client.registry.get(name).describe()
        return schemas[name]

    def wait_limit(wait: float | None) -> float:
        value = gw.default_wait_s if wait is None else wait
        if not 0 <= value <= gw.max_wait_s:
            raise InvalidInput(messages.WAIT_OUT_OF_RANGE.format(max=gw.max_wait_s, value=value),
                               [FieldProblem("wait", "out of range",
                                             f"Use 0..{gw.max_wait_s:g}.")])
        return value

    async def run(name: str, payload: Any, who: Identity, wait_s: float | None,
                  idempotency_key: str | None) -> JSONResponse:
        """Invoke (wait_s: seconds to wait) or spawn (None): the routes below and
        fleet.gateway.fast_path both end here."""
        inv = await svc.invocations.ainvoke(who, name, payload, via="http",
                                            idempotency_key=idempotency_key,
                                            wait=wait_s is not None, wait_s=wait_s)
        return _record(inv, 200 if inv.done and wait_s is not None else 202)

    @app.get("/healthz", tags=["ops"])
    def health() -> dict:
        svc.invocations.healthy()  # the store answers
        return {"status": "ok", "functions": len(client.registry)}

    @app.get("/metrics", tags=["ops"], responses={200: {
        "description": "Prometheus text format",
        "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}}}})
    async def prometheus(request: Request) -> Response:
        if not gw.metrics_public:
            await asyncio.to_thread(auth.check, request, "read")
        counters = await peers() if peers is not None else []
        body = await asyncio.to_thread(metrics.render, counters)
        return Response(body, media_type="text/plain; version=0.0.4")

    @app.get("/v1/functions", tags=["functions"])
    async def list_functions(_: Identity = Depends(read)) -> dict:
        return {"functions": [described(spec.name) for spec in client.registry]}

    @app.get("/v1/usage", tags=["functions"])
    def usage(by: Literal["function", "caller"] = Query("function"),
              since: str = Query("30d", max_length=16, pattern=DURATION_PATTERN,
                                 description="e.g. 90s, 30m, 1h, 7d"),
              who: Identity = Depends(read)) -> dict:
        """Resource-seconds (and cost, with `usage:` prices) of finished invocations."""
        return svc.usage.report(who, by=by, since=since)

    @app.get("/v1/functions/{name}", tags=["functions"])
    async def get_function(name: str, _: Identity = Depends(read)) -> dict:
        return described(client.registry.get(name).name)

    @app.post("/v1/functions/{name}/invoke", tags=["invocations"], openapi_extra=ANY_INPUT,
              responses={202: {"description": "Still running after `wait` seconds"}})
    async def invoke(name: str, request: Request,
                     wait: float | None = Query(None, ge=0, le=gw.max_wait_s,
                                                description="Seconds to wait"),
                     idempotency_key: str | None = IDEMPOTENCY_KEY,
                     who: Identity = Depends(invoke_scope)) -> JSONResponse:
        """Run a function and wait for it; past `wait` seconds, 202 and poll Location."""
        limit = wait_limit(wait)
        client.registry.get(name)  # 404 before reading the body
        return await run(name, parse_body(await request.body()), who, limit,
                         idempotency_key)

    @app.post("/v1/functions/{name}/spawn", tags=["invocations"], status_code=202,
              openapi_extra=ANY_INPUT)
    async def spawn(name: str, request: Request, idempotency_key: str | None = IDEMPOTENCY_KEY,
                    who: Identity = Depends(invoke_scope)) -> JSONResponse:
        """Start a function and return at once: 202, the invocation and its Location."""
        client.registry.get(name)
        return await run(name, parse_body(await request.body()), who, None, idempotency_key)

    @app.get("/v1/invocations", tags=["invocations"])
    def list_invocations(function: str | None = None, status: str | None = None,
                               via: str | None = None, limit: int = Query(50, ge=1, le=1000),
                               who: Identity = Depends(read)) -> dict:
        rows = svc.invocations.list(who, function=function, status=status, via=via,
                                    limit=limit)
        return {"invocations": [r.public() for r in rows]}

    @app.get("/v1/invocations/{inv_id}", tags=["invocations"])
    def get_invocation(inv_id: str, who: Identity = Depends(read)) -> JSONResponse:
        return _record(svc.invocations.get(who, inv_id))

    @app.post("/v1/invocations/{inv_id}/cancel", tags=["invocations"])
    async def cancel(inv_id: str, who: Identity = Depends(invoke_scope)) -> JSONResponse:
        return _record(await svc.invocations.acancel(who, inv_id))

    @app.get("/v1/models", tags=["models"])
    def list_models(who: Identity = Depends(read)) -> dict:
        return {"models": svc.models.list(who)}

    @app.get("/v1/models/{name}", tags=["models"])
    def get_model(name: str, who: Identity = Depends(read)) -> dict:
        return svc.models.describe(who, name)

    @app.put("/v1/models/{name}/aliases/{alias}", tags=["models"],
             responses={202: {"description": "A protected alias: an approval was requested"}})
    def move_alias(name: str, body: AliasIn,
                   alias: str = Path(pattern=ALIAS_NAME,
                                     description="lower-case letters, digits, '_' or '-'"),
                   who: Identity = Depends(admin)) -> JSONResponse:
        """Move an alias (e.g. champion): one audited transaction with a reason. A protected
        alias (approvals.protected_aliases) answers 202 with the approval request instead."""
        out = approvals.move_alias(model=name, alias=alias, version=body.version, who=who,
                                   reason=body.reason)
        if not out["moved"]:
            ap = out["approval"]
            return JSONResponse({"model": name, "approval": ap.public(),
                                 "detail": messages.ALIAS_NEEDS_APPROVAL.format(
                                     model=name, alias=alias, id=ap.id, role=ap.role)},
                                status_code=202)
        return JSONResponse({"model": name, "aliases": out["aliases"]})

    @app.get("/v1/schedules", tags=["schedules"])
    def list_schedules(who: Identity = Depends(read)) -> dict:
        return {"schedules": [s.public() for s in schedules.list(who)]}

    @app.post("/v1/schedules", tags=["schedules"], status_code=201)
    def add_schedule(body: ScheduleIn, who: Identity = Depends(invoke_scope)) -> dict:
        return schedules.add(who, name=body.name, function=body.function, spec=body.schedule,
                             payload=body.input).public()

    @app.delete("/v1/schedules/{name}", tags=["schedules"], status_code=204)
    def remove_schedule(name: str, who: Identity = Depends(invoke_scope)) -> Response:
        schedules.remove(who, name)
        return Response(status_code=204)

    # -- serving: endpoints, rollouts, approvals (the outbox: outbox_routes) ----------------

    @app.get("/v1/endpoints", tags=["serving"])
    def list_endpoints(who: Identity = Depends(read)) -> dict:
        return {"endpoints": [e.public() for e in svc.endpoints.list(who)]}

    @app.get("/v1/endpoints/{name}", tags=["serving"])
    def get_endpoint(name: str, who: Identity = Depends(read)) -> dict:
        return svc.endpoints.describe(who, name)

    @app.get("/v1/rollouts", tags=["serving"])
    def list_rollouts(endpoint: str | None = None, active: bool | None = None,
                            limit: int = Query(50, ge=1, le=500),
                            who: Identity = Depends(read)) -> dict:
        rows = svc.rollouts.list(who, endpoint=endpoint, active=active, limit=limit)
        return {"rollouts": [r.public() for r in rows]}

    @app.get("/v1/rollouts/{rid}", tags=["serving"])
    def get_rollout(rid: str, who: Identity = Depends(read)) -> dict:
        return svc.rollouts.describe(who, rid)  # the id or a unique prefix

    @app.get("/v1/approvals", tags=["approvals"])
    def list_approvals(status: str | None = Query(None, description="pending, ..."),
                             who: Identity = Depends(read)) -> dict:
        return {"approvals": [a.public() for a in approvals.list(who, status=status)]}

    @app.get("/v1/approvals/{aid}", tags=["approvals"])
    def get_approval(aid: str, who: Identity = Depends(read)) -> dict:
        return approvals.get(who, aid).public()

    def decide(aid: str, body: DecisionIn | None, who: Identity, approve: bool) -> dict:
        return approvals.decide(who, aid, approve=approve,
                                comment=body.comment if body else "").public()

    @app.post("/v1/approvals/{aid}/approve", tags=["approvals"])
    def approve(aid: str, body: DecisionIn | None = None,
                      who: Identity = Depends(invoke_scope)) -> dict:
        """Approve as the token's identity; needs the request's role, not the requester."""
        return decide(aid, body, who, True)

    @app.post("/v1/approvals/{aid}/reject", tags=["approvals"])
    def reject(aid: str, body: DecisionIn | None = None,
                     who: Identity = Depends(invoke_scope)) -> dict:
        return decide(aid, body, who, False)

    @app.get("/v1/approvals/{aid}/gate", tags=["approvals"], operation_id="approval_gate")
    @app.post("/v1/approvals/{aid}/gate", tags=["approvals"],
              operation_id="approval_gate_webhook")
    def gate(aid: str) -> JSONResponse:
        """A confirm webhook in Flagger's sense: 200 when approved, 403 otherwise. Open
        without a token, like Flagger's own gates; it says only whether the gate is open."""
        ap = approvals.get(None, aid)
        ok = ap.status == "approved"
        return JSONResponse({"id": aid, "status": ap.status, "open": ok},
                            status_code=200 if ok else 403)

    @app.post("/v1/gates/flagger/{kind}", tags=["approvals"],
              responses={403: {"description": "Not approved (yet)"}})
    def flagger_gate(body: FlaggerIn,
                     kind: str = Path(pattern="^(confirm-rollout|confirm-traffic-increase|"
                                              "confirm-promotion)$")) -> JSONResponse:
        """A Flagger confirm-* webhook that asks in Slack: the first call opens an approval
        request (shown with buttons by the bot); 403 until it is approved, then 200. A new
        checksum (a new revision) asks again. Flagger sends no headers, so the request is
        opened as the identity of `metadata.fleet_token`."""
        who = auth.identities.identify(body.metadata.get("fleet_token"))
        ap = approvals.external_gate(
            target=f"flagger:{body.namespace}/{body.name}", key=f"{kind}:{body.checksum}",
            gate=FLAGGER_GATES[kind], who=who,
            summary=messages.FLAGGER_SUMMARY.format(kind=kind, namespace=body.namespace,
                                                    name=body.name, phase=body.phase,
                                                    checksum=body.checksum[:12]))
        ok = ap.status == "approved"
        return JSONResponse({"id": ap.id, "status": ap.status, "open": ok},
                            status_code=200 if ok else 403)

    app.include_router(outbox_router(svc.outbox, auth))
    app.include_router(drift_router(svc.drift, settings, auth))
    app.include_router(alert_router(svc.drift, auth))
    app.include_router(audit_router(svc.audit, auth))

    names = set(client.registry.names())
    app.add_middleware(FastInvoke, auth=auth, known=names.__contains__, run=run,
                       default_wait_s=gw.default_wait_s, max_wait_s=gw.max_wait_s,
                       max_key=MAX_IDEMPOTENCY_KEY)
    app.add_middleware(RequestCounter, counter=metrics.requests)
    app.state.metrics = metrics  # a peer instance asks for its request counter
    # Added last, so it is the outermost layer: oversized bodies never reach a handler.
    app.add_middleware(BodyLimit, max_bytes=gw.max_body_bytes)
    return app
