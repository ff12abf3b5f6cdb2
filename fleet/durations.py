"""Durations people type: 30s, 15m, 1h, 7d (CLI options and query parameters)."""

from __future__ import annotations

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
# What parse_duration accepts, for API schemas: a positive number (a non-zero digit before
# any decimal point) and a unit, with at most as many digits as keep it under MAX_DURATION_S
# (1e10 s, 1e8 m, 1e6 h, 1e5 d: all under 320 years), so every value the schema admits is
# accepted and a value no store or clock can hold is refused by the schema itself.
DURATION_PATTERN = (r"^0*([1-9][0-9]{0,9}(\.[0-9]+)?s|[1-9][0-9]{0,7}(\.[0-9]+)?m"
                    r"|[1-9][0-9]{0,5}(\.[0-9]+)?h|[1-9][0-9]{0,4}(\.[0-9]+)?d)$")

MAX_DURATION_S = 365_000 * 86_400.0  # a thousand years


def parse_duration(text: str, field: str) -> float:
    """Seconds in `text`; a clear error naming `field` when it is not a positive duration."""
    t = (text or "").strip()
    try:
        value = float(t[:-1]) * UNITS[t[-1]]
    except (KeyError, ValueError, IndexError):
        value = 0
    if value <= 0 or value != value:  # NaN too
        raise InvalidInput(messages.BAD_DURATION.format(option=field, text=text), [
            FieldProblem(field, "not a duration", "Write it like 30m, 1h or 2d.")])
    if value > MAX_DURATION_S:  # past any date the store or a clock can hold: a 422, not a 500
        raise InvalidInput(messages.DURATION_TOO_LONG.format(option=field, text=text), [
            FieldProblem(field, "too long", "Use at most 365000d (a thousand years).")])
    return value
