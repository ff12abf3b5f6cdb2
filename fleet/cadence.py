"""Schedule slots: which moments a schedule fires at, as pure functions of time.

A slot is an instant (UTC epoch seconds) a schedule is due. The scheduler runs each slot at
most once by turning it into an idempotency key; this module only says which slots exist, so
it is unit tested without Ray or a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from croniter import croniter

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

EVERY_RE = re.compile(r"^@every\s+(\d+(?:\.\d+)?)\s*([smh])$")
UNIT_S = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Cadence:
    """A parsed schedule: either a fixed period or a cron expression (UTC)."""

    spec: str
    period_s: float | None = None
    cron: str | None = None

    def next_after(self, t: float) -> float:
        """The first slot strictly after t."""
        if self.period_s is not None:
            return (int(t // self.period_s) + 1) * self.period_s
        start = datetime.fromtimestamp(t, tz=timezone.utc)
        return croniter(self.cron, start).get_next(float)

    def due(self, after: float, until: float, limit: int = 1000) -> list[float]:
        """Slots s with after < s <= until, oldest first, at most `limit` of the newest.

        The cost is bounded by `limit`, however far behind `after` is: walking every slot
        of a schedule that last ran long ago (`@every 1s` from 1970 is 1.8e9 of them) held
        the scheduler's tick for hours, and no other schedule ran meanwhile."""
        if until <= after:
            return []
        if self.period_s is not None:
            p = self.period_s
            first, last = int(after // p) + 1, int(until // p)
            return [k * p for k in range(max(first, last - limit + 1), last + 1)]
        # cron: back from `until` (itself included), at most `limit` slots
        it = croniter(self.cron, datetime.fromtimestamp(until, tz=timezone.utc)
                      + timedelta(microseconds=1))
        out: list[float] = []
        while len(out) < limit:
            s = it.get_prev(float)
            if s <= after:
                break
            out.append(s)
        return out[::-1]


def parse_schedule(spec: str) -> Cadence:
    """Parse '@every 30s' / '@every 5m' or a 5- or 6-field cron expression."""
    text = (spec or "").strip()
    problem = FieldProblem("schedule", messages.BAD_SCHEDULE.format(spec=spec),
                           "e.g. '*/5 * * * *' or '@every 10s'")
    m = EVERY_RE.match(text)
    if m:
        period = float(m.group(1)) * UNIT_S[m.group(2)]
        if period < 1:
            raise InvalidInput(messages.BAD_SCHEDULE.format(spec=spec), [problem])
        return Cadence(spec=text, period_s=period)
    if len(text.split()) in (5, 6) and croniter.is_valid(text):
        return Cadence(spec=text, cron=text)
    raise InvalidInput(messages.BAD_SCHEDULE.format(spec=spec), [problem])
