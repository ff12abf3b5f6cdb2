"""A pure-ASGI body size limit: refuses before the body is read into memory, as the
PayloadTooLarge problem (413) wherever the body is read."""

from __future__ import annotations

import json

from fleet import messages
from fleet.errors import PayloadTooLarge, problem_body
from fleet.http_edge import send_whole


class BodyLimit:
    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send, size: int) -> None:
        err = self.too_large(size)
        body = json.dumps(problem_body(err.status, err.code, err.title, err.detail)).encode()
        await send_whole(send, 413, body, [(b"content-type", b"application/problem+json"),
                                           (b"content-length", str(len(body)).encode()),
                                           (b"connection", b"close")])

    def too_large(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(messages.BODY_TOO_LARGE.format(size=size, limit=self.max_bytes))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    return await self._refuse(send, declared)
        seen = 0
        too_big = False

        async def limited_receive():
            nonlocal seen, too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_big = True
                    # a FleetError: whichever layer reads the body (FastAPI's routes, the
                    # fast path) answers it as the 413 problem, never as a 500
                    raise self.too_large(seen)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except PayloadTooLarge:
            await self._refuse(send, seen)
