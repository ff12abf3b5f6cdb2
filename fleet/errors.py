"""The errors Fleet raises on purpose, each mapped to an HTTP status and a CLI exit code.

Anything that is not a FleetError is an internal error: callers see a generic message with a
reference id, and the details go to the operator's log only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field: what is wrong and how to fix it."""

    field: str
    message: str
    fix: str = ""

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message, "fix": self.fix}


@dataclass
class FleetError(Exception):
    """Base class. `status` is the HTTP status; `code` a stable slug for the problem type."""

    detail: str
    errors: list[FieldProblem] = field(default_factory=list)
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        if not self.errors:
            return self.detail
        lines = [self.detail] + [f"  - {e.field}: {e.message}" for e in self.errors]
        return "\n".join(lines)


def _kind(status: int, code: str, title: str):
    def init(self, detail: str, errors: list[FieldProblem] | None = None) -> None:
        FleetError.__init__(self, detail, errors or [], status, code, title)

    return init


class NotFound(FleetError):
    __init__ = _kind(404, "not-found", "Not found")


class InvalidInput(FleetError):
    __init__ = _kind(422, "invalid-input", "Invalid input")


class Conflict(FleetError):
    __init__ = _kind(409, "conflict", "Conflict")


class PayloadTooLarge(FleetError):
    __init__ = _kind(413, "payload-too-large", "Payload too large")


class Unauthorized(FleetError):
    __init__ = _kind(401, "unauthorized", "Unauthorized")


class Forbidden(FleetError):
    __init__ = _kind(403, "forbidden", "Forbidden")


class Unavailable(FleetError):
    __init__ = _kind(503, "unavailable", "Service unavailable")


class RayStartTimedOut(Unavailable):
    """`ray start` gave up waiting for its own raylet (30 s, fixed in Ray): on a loaded
    machine (another installation busy beside this one) a second try usually succeeds."""


class DefinitionError(FleetError):
    """A function, schedule or config is defined wrongly: raised at import/load time."""

    __init__ = _kind(500, "definition-error", "Definition error")


def problem_body(status: int, code: str, title: str, detail: str,
                 errors: list[dict] | None = None) -> dict:
    """An RFC 9457 problem document: the one shape every Fleet error answer has, from the
    gateway, the router and the model apps alike."""
    body = {"type": f"https://fleet.dev/problems/{code}", "title": title, "status": status,
            "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def exit_code(err: FleetError) -> int:
    """CLI exit codes: 2 for the caller's mistake, 3 when something is missing, 4 unavailable."""
    if err.status in (404,):
        return 3
    if err.status >= 500:
        return 4
    return 2
