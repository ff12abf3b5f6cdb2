"""Lists a person can read at any width, as `kubectl get` and `gh` print them.

Every list command takes `-o table|wide|json|yaml`:
- `table` (the default) fits the terminal: one line per row, never a split word or id.
  Columns drop by priority until the rest fit, then the longest free text is cut with an
  ellipsis; ids are shown as their shortest unique prefix (every command accepts it) and
  never cut. Times read as "3m ago" / "in 2h".
- `wide` shows every column, times as UTC timestamps, and lets the terminal wrap.
- `json` and `yaml` print the records whole, for scripts.

A list is a tuple of `Col`s; `show(rows, cols, output)` does the rest."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rich.table import Table
from rich.text import Text

from fleet import messages
from fleet.cli import render
from fleet.cli.render import STATUS_STYLE
from fleet.errors import FieldProblem, InvalidInput
from fleet.names import short_ids

OUTPUTS = ("table", "wide", "json", "yaml")
GAP = 2  # the space between two columns
MIN_CUT = 12  # the narrowest a free-text column is cut to

@dataclass(frozen=True)
class Col:
    """One column. `priority`: 0 is always shown; higher numbers are dropped first when the
    terminal is narrow. `wide`: only with `-o wide`. `kind`: "id" (shortest unique prefix),
    "time" (relative in a table), "status" (coloured), or "text". `cut`: free text (a
    summary, a description) that may end in an ellipsis to fit; every other column is
    shown whole or not at all."""

    header: str
    value: Callable[[dict], Any]
    priority: int = 1
    wide: bool = False
    kind: str = "text"
    cut: bool = False


def check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise InvalidInput(messages.UNKNOWN_OUTPUT.format(output=output), [FieldProblem(
            "--output", "unknown", f"Use one of: {', '.join(OUTPUTS)}.")])
    return output


def epoch(value: Any) -> float | None:
    """A record's time, stored as epoch seconds or an ISO string, as epoch seconds."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def ago(value: Any, now: float | None = None) -> str:
    """'12s ago', '3m ago', '5h ago', '2d ago'; a future time 'in 3m'."""
    t = epoch(value)
    if t is None:
        return ""
    delta = (now if now is not None else time.time()) - t
    future, delta = delta < 0, abs(delta)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if delta >= size:
            amount = f"{int(delta // size)}{unit}"
            break
    else:
        amount = f"{int(delta)}s"
    return f"in {amount}" if future else f"{amount} ago"


def stamp(value: Any) -> str:
    t = epoch(value)
    return "" if t is None else datetime.fromtimestamp(t, tz=timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S")


def _cell(col: Col, row: dict, wide: bool, short: dict[str, str]) -> str:
    value = col.value(row)
    if col.kind == "time":
        return stamp(value) if wide else ago(value)
    if col.kind == "id":
        return str(value) if wide else short.get(str(value), str(value))
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return str(value)


def _natural(cols: list[Col], cells: list[list[str]]) -> list[int]:
    """Each column's width with nothing cut: its header or its longest cell."""
    return [max([len(c.header)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]


def fit(cols: list[Col], cells: list[list[str]], width: int) -> tuple[list[int], list[int]]:
    """Which columns to show (their indexes) and each one's width, for `width` columns of
    terminal: drop by priority (the last of equals first) while the narrowest they may
    get does not fit; then cut the widest free-text columns down to what is left."""
    natural = _natural(cols, cells)
    narrowest = [min(natural[i], max(len(c.header), MIN_CUT)) if c.cut else natural[i]
                 for i, c in enumerate(cols)]
    # a column with nothing in it says nothing: it goes first
    shown = [i for i, c in enumerate(cols) if c.priority == 0 or any(r[i] for r in cells)]

    def need(idx: list[int], widths) -> int:  # widths: by column index
        return sum(widths[i] for i in idx) + GAP * (len(idx) - 1)

    while need(shown, narrowest) > width:
        droppable = [i for i in shown if cols[i].priority > 0]
        if not droppable:
            break
        top = max(cols[i].priority for i in droppable)
        shown.remove([i for i in droppable if cols[i].priority == top][-1])
    widths = {i: natural[i] for i in shown}
    while need(shown, widths) > width:
        free = [i for i in shown if widths[i] > narrowest[i]]
        if not free:
            break
        widest = max(free, key=lambda i: widths[i])
        over = need(shown, widths) - width
        widths[widest] = max(narrowest[widest], widths[widest] - over)
    return shown, [widths[i] for i in shown]


def show(rows: list[dict], cols: tuple[Col, ...], output: str = "table", *,
         console=None) -> None:
    """Print `rows` as `output` says (see the module's docstring)."""
    output = check_output(output)
    if output == "json":
        render.as_json(rows)
        return
    if output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(json.loads(json.dumps(rows, default=str)),
                                        sort_keys=False, allow_unicode=True) or "[]\n")
        return
    console = console or render.console
    wide = output == "wide"
    use = [c for c in cols if wide or not c.wide]
    ids = [str(c.value(r)) for c in use if c.kind == "id" for r in rows]
    short = short_ids(ids) if ids else {}
    cells = [[_cell(c, r, wide, short) for c in use] for r in rows]
    if wide:  # every column whole: the line runs as long as it needs (kubectl's -o wide)
        shown, widths = list(range(len(use))), _natural(use, cells)
    else:
        shown, widths = fit(use, cells, console.width)
    t = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold", expand=False)
    for i, w in zip(shown, widths, strict=True):
        t.add_column(use[i].header, no_wrap=True, min_width=None if use[i].cut else w,
                     max_width=w, overflow="ellipsis")
    for row in cells:
        t.add_row(*(Text(row[i], style=STATUS_STYLE.get(row[i], "") if use[i].kind == "status"
                         else "") for i in shown))
    needed = sum(widths) + GAP * len(widths)
    if needed <= console.width:
        console.print(t)
        return
    width, console.width = console.width, needed  # -o wide: wider than the terminal
    try:
        console.print(t)
    finally:
        console.width = width


__all__ = ["Col", "OUTPUTS", "ago", "check_output", "fit", "show", "stamp"]
