"""RFC 9457 problem documents: every error the gateway returns has this shape."""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


async def internal_error_handler(request: Request, err: Exception) -> JSONResponse:
    """Log everything, return nothing internal: a reference id links the two."""
    ref = uuid.uuid4().hex[:12]
    log.error("internal error ref=%s on %s %s", ref, request.method, request.url.path,
              exc_info=err)
    return problem(500, "internal-error", "Internal error",
                   messages.INTERNAL_ERROR.format(ref=ref))
