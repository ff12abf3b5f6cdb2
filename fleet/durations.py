"""Durations people type: 30s, 15m, 1h, 7d (CLI options and query parameters)."""

from __future__ import annotations

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
# What parse_duration accepts, for API schemas: a positive number (a non-zero digit before
# any decimal point) and a unit
DURATION_PATTERN = r"^[0-9]*[1-9][0-9]*(\.[0-9]+)?[smhd]$"


def parse_duration(text: str, field: str) -> float:
    """Seconds in `text`; a clear error naming `field` when it is not a positive duration."""
    t = (text or "").strip()
    try:
        value = float(t[:-1]) * UNITS[t[-1]]
    except (KeyError, ValueError, IndexError):
        value = 0
    if value <= 0:
        raise InvalidInput(messages.BAD_DURATION.format(option=field, text=text), [
            FieldProblem(field, "not a duration", "Write it like 30m, 1h or 2d.")])
    return value
