"""What every HTTP edge (the gateway, the router, the Serve apps) does to a body before it
trusts it, written once: read it up to a size limit, and parse it as JSON no deeper than a
depth limit. A hostile body (100,000 nested lists, a chunked body past the limit) is the
caller's fault: a 413 or 422 problem that never echoes it, never a 500, and for the router
never an error counted against a version.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

MAX_JSON_DEPTH = 64  # arrays and objects inside each other; Python's parser dies near 1,000
_TOKENS = re.compile(rb'"(?:\\.|[^"\\])*"|[\[\]{}]')  # strings (skipped) and brackets


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `raw` nests arrays and objects deeper than `limit` (brackets inside
    strings do not count). Fast on ordinary bodies: fewer brackets than the limit in all
    cannot nest deeper."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for m in _TOKENS.finditer(raw):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif c in (b"]", b"}"):
            depth -= 1
    return False


def load_json(raw: bytes | str, *, field: str = "body", empty: Any = None,
              max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a request body; `empty` for a blank one (when not None).
    InvalidInput (422), naming `field`, for anything that is not JSON or nests deeper than
    `max_depth`; the body itself is never quoted back."""
    data = raw.encode() if isinstance(raw, str) else raw
    if empty is not None and not data.strip():
        return empty
    if json_too_deep(data, max_depth):
        raise InvalidInput(messages.JSON_TOO_DEEP.format(field=field, max=max_depth), [
            FieldProblem(field, f"nested deeper than {max_depth}",
                         "Flatten the structure; send the rows as a list of objects.")])
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        reason = exc.args[0] if isinstance(exc, ValueError) and exc.args else "not JSON"
        raise InvalidInput(messages.PAYLOAD_NOT_JSON.format(reason=reason),
                           [FieldProblem(field, "invalid JSON", "Send a JSON object.")]
                           ) from None


async def send_whole(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
                     ) -> None:
    """A whole response, in ASGI's two messages (the edges that answer without a
    framework: the gateway's body limit, the Serve apps' edge, the router)."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive, headers: dict, limit: int) -> bytes | None:
    """An ASGI request's body, or None as soon as it is known to exceed `limit` bytes
    (declared in Content-Length, or counted as a chunked body arrives)."""
    try:
        if int(headers.get(b"content-length", b"0")) > limit:
            return None
    except ValueError:
        pass
    chunks, size = [], 0
    while True:
        msg = await receive()
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not msg.get("more_body"):
            return b"".join(chunks)


__all__ = ["MAX_JSON_DEPTH", "json_too_deep", "load_json", "read_body", "send_whole"]
