"""Why `ray start` failed, in Fleet's words: the known causes found in Ray's own logs.

Ray reports a failed head start as an exit status; the cause is a line in its output or
deep in one of its session logs (the 107-byte socket path limit surfaced only in the
dashboard's log). `explain` reads the tails of those logs for the causes a first run
meets and names the cause and the fix; an unknown failure keeps pointing at the logs.
"""

from __future__ import annotations

import re
from pathlib import Path

from fleet import messages
from fleet.processes import log_tail

_SOCKET = re.compile(r"AF_UNIX path length cannot exceed (\d+) bytes: (\S+)")
_RUNNING = re.compile(r"Ray is trying to start at (\S+), but is already running at (\S+?)\.?\s")
_BIND = re.compile(r"(?i)(address already in use|failed to bind|port \S* ?(?:is )?already in use"
                   r"|failed to add port|could not bind)")
_PORT = re.compile(r"(?:\bport[ =:]+|\b\d{1,3}(?:\.\d{1,3}){3}:|localhost:|\]:)(\d{2,5})\b")
_DENIED = re.compile(r"Permission denied: '([^']+)'")


def _port_near(text: str, at: int) -> str:
    """The port number named on the line of a bind failure, if any."""
    start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
    m = _PORT.search(text[start:end if end >= 0 else None])
    return f" (port {m.group(1)})" if m else ""


def explain(text: str) -> str | None:
    """The known cause in `text` (Ray's output and logs), with its fix; None if none."""
    if m := _SOCKET.search(text):
        return messages.RAY_CAUSE_SOCKET_PATH.format(limit=m.group(1), path=m.group(2))
    if m := _RUNNING.search(text):
        return messages.RAY_CAUSE_ALREADY_RUNNING.format(address=m.group(2))
    if m := _BIND.search(text):
        return messages.RAY_CAUSE_PORT_IN_USE.format(port=_port_near(text, m.start()))
    if m := _DENIED.search(text):
        return messages.RAY_CAUSE_DENIED.format(path=m.group(1))
    return None


def logs_of(start_log: Path, temp_dir: str | None, since: int = 0) -> str:
    """`ray start`'s own output from offset `since` (its log is appended to by every start;
    at most its last 16 KiB) and the tails of the newest session's logs."""
    try:
        with open(start_log, "rb") as f:
            end = f.seek(0, 2)
            f.seek(max(since, end - 16384))
            parts = [f.read().decode(errors="replace")]
    except OSError:
        parts = []
    if temp_dir:
        session = Path(temp_dir) / "session_latest" / "logs"
        for f in sorted(session.glob("*.err")) + sorted(session.glob("*.log"))[:20]:
            parts.append(log_tail(f, 4096))
    return "\n".join(parts)


__all__ = ["explain", "logs_of"]
