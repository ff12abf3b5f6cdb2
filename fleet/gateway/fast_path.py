"""Invoke and spawn without FastAPI's per-request machinery.

bench/profile_gateway --gil showed Starlette and FastAPI (middleware layers, routing,
dependency solving, request and response objects) taking about half a millisecond of the
supervisor's one GIL per invocation: a quarter of a no-op invoke, and the larger part of a
spawn. This ASGI layer answers the ordinary request itself, `POST /v1/functions/NAME/invoke`
or `/spawn` with a token, at most a valid `wait` and an `Idempotency-Key`, through the same
`run` the FastAPI routes call. Anything else (another query parameter, a `wait` out of
range, an unknown function) goes on to FastAPI, whose answer is the reference; the routes
stay there too, so the OpenAPI document still describes them. Refusals raised here are
rendered by the same problem functions as the app's handlers.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse

from fleet import messages
from fleet.errors import FleetError
from fleet.gateway.auth import ACT_AS_HEADER, TokenAuth
from fleet.gateway.problems import from_fleet_error, problem
from fleet.http_edge import load_json
from fleet.names import FUNCTION_NAME

log = logging.getLogger("fleet.gateway")
PATH = re.compile(r"^/v1/functions/(" + FUNCTION_NAME[1:-1] + r")/(invoke|spawn)$")
# (name, payload, identity, wait_s or None for spawn, idempotency key) -> response
Run = Callable[[str, Any, Any, float | None, str | None], Awaitable[JSONResponse]]


def parse_body(raw: bytes) -> Any:
    """The JSON payload; an empty body is {} (what invoke without input means)."""
    return load_json(raw, empty={})


class FastInvoke:
    def __init__(self, app, *, auth: TokenAuth, known: Callable[[str], bool], run: Run,
                 default_wait_s: float, max_wait_s: float, max_key: int) -> None:
        self.app = app
        self._auth, self._known, self._run = auth, known, run
        self._default_wait, self._max_wait, self._max_key = default_wait_s, max_wait_s, max_key
        self._routes: dict[str, object] = {}  # for RequestCounter's route label

    def _route(self, scope, kind: str):
        if kind not in self._routes:
            template = f"/v1/functions/{{name}}/{kind}"
            self._routes[kind] = next((r for r in scope["app"].routes
                                       if getattr(r, "path", None) == template), None)
        return self._routes[kind]

    def _wait(self, query: bytes, kind: str) -> float | None | bool:
        """wait_s for invoke, None for spawn; False when FastAPI should answer."""
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
        if kind == "spawn":
            return None if not pairs else False
        if not pairs:
            return self._default_wait
        if len(pairs) != 1 or pairs[0][0] != "wait":
            return False
        try:
            value = float(pairs[0][1])
        except ValueError:
            return False
        return value if 0 <= value <= self._max_wait else False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        m = PATH.match(scope["path"])
        if m is None or not self._known(m.group(1)):
            return await self.app(scope, receive, send)
        name, kind = m.groups()
        wait = self._wait(scope.get("query_string", b""), kind)
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        if wait is False or (key is not None and len(key) > self._max_key):
            return await self.app(scope, receive, send)
        scope["route"] = self._route(scope, kind)
        try:
            who = self._auth.check_headers(
                _text(headers.get(b"authorization")),
                _text(headers.get(ACT_AS_HEADER.encode())), "invoke")
            raw = b""
            while True:
                message = await receive()
                raw += message.get("body", b"")
                if not message.get("more_body"):
                    break
            response = await self._run(name, parse_body(raw), who, wait, _text(key))
        except FleetError as err:
            response = from_fleet_error(err)
        except Exception as err:  # the same as the app's internal_error_handler
            ref = uuid.uuid4().hex[:12]
            log.error("internal error ref=%s on POST %s", ref, scope["path"], exc_info=err)
            response = problem(500, "internal-error", "Internal error",
                               messages.INTERNAL_ERROR.format(ref=ref))
        await response(scope, receive, send)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


__all__ = ["FastInvoke", "parse_body"]
