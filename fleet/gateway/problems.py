"""RFC 9457 problem documents: every error the gateway returns has this shape."""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleet import messages
from fleet.errors import FieldProblem, FleetError, problem_body

log = logging.getLogger("fleet.gateway")
PROBLEM_TYPE = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str,
            errors: list[FieldProblem] | None = None, headers: dict | None = None
            ) -> JSONResponse:
    body = problem_body(status, code, title, detail,
                        [e.as_dict() for e in errors] if errors else None)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def from_fleet_error(err: FleetError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
    return problem(err.status, err.code, err.title, err.detail, err.errors, headers)


async def fleet_error_handler(_request: Request, err: FleetError) -> JSONResponse:
    return from_fleet_error(err)


async def request_validation_handler(_request: Request, err: RequestValidationError
                                     ) -> JSONResponse:
    errors = []
    for e in err.errors():
        loc = [str(p) for p in e.get("loc", ())]
        where = loc[0] if loc else "request"
        field = ".".join(loc[1:]) or where
        errors.append(FieldProblem(field, e.get("msg", "invalid"),
                                   f"Fix the {where} parameter '{field}'."))
    return problem(422, "invalid-input", "Invalid input",
                   f"The request has {len(errors)} invalid parameter(s).", errors)


async def http_error_handler(request: Request, err: StarletteHTTPException) -> JSONResponse:
    """Starlette's own refusals (405, 404 for no route, 400 for a body it cannot parse) in
    the same problem shape as everything else. A 405's Allow lists every method the path
    has: Starlette names only those of the first route that matched it."""
    title = HTTPStatus(err.status_code).phrase
    headers = dict(err.headers or {})
    if err.status_code == 405:
        methods = set()
        for route in request.app.routes:
            regex = getattr(route, "path_regex", None)
            if regex is not None and regex.match(request.url.path):
                methods |= set(getattr(route, "methods", None) or ())
        if methods:
            headers["Allow"] = ", ".join(sorted(methods))
    return problem(err.status_code, title.lower().replace(" ", "-"), title, str(err.detail),
                   headers=headers)


# The answer every refusal has, for the OpenAPI document: generated clients then expect
# application/problem+json with these fields on any 4xx the gateway gives.
PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message", "fix"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                           "fix": {"type": "string"}}}},
    },
}
REFUSALS = {
    400: "The body cannot be parsed.",
    401: "No valid bearer token.",
    403: "The token lacks the scope or role, or the data is outside the data roots.",
    404: "No such function, invocation, model, endpoint, rollout or approval.",
    409: "The state changed: already decided, already running, or an idempotency key reused.",
    413: "The body is larger than gateway.max_body_bytes.",
    422: "Invalid input: each problem names the field and the fix.",
    503: "Fleet's runtime or store is not reachable.",
}
PROBLEM_RESPONSES = {
    code: {"description": text,
           "content": {PROBLEM_TYPE: {"schema": PROBLEM_SCHEMA}}}
    for code, text in REFUSALS.items()
}


async def internal_error_handler(request: Request, err: Exception) -> JSONResponse:
    """Log everything, return nothing internal: a reference id links the two."""
    ref = uuid.uuid4().hex[:12]
    log.error("internal error ref=%s on %s %s", ref, request.method, request.url.path,
              exc_info=err)
    return problem(500, "internal-error", "Internal error",
                   messages.INTERNAL_ERROR.format(ref=ref))
