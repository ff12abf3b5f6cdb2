"""The edge of a Serve app that Fleet ships (the LLM app, the RAG app): the same contract
as the gateway and the router, in one ASGI middleware.

- `serving.endpoint_tokens` names the app (or "*"): every URL it serves needs a bearer
  token of a listed identity (401 without one, 403 for another).
- A body over `serving.max_body_bytes` is a 413 as soon as it is known (declared, or
  counted as a chunked body arrives); JSON nested deeper than fleet.http_edge's limit is a
  422. Neither reaches the handler, and neither quotes the body back.
- A request that fails validation is a 422 naming each field, without the input (FastAPI's
  default answer echoes it: a 2 MB body came back in full).

Each app renders these in its own error shape (`render(status, title, detail, field)`):
RFC 9457 problems for the RAG app, OpenAI's `{"error": ...}` for the LLM app.

Serve builds an app's middleware before a replica's constructor runs, so the settings
arrive later, through an `EdgeSettings` the replica fills in (`configure`)."""

from __future__ import annotations

from collections.abc import Callable

from fleet import messages
from fleet.errors import FleetError, Forbidden
from fleet.http_edge import MAX_JSON_DEPTH, json_too_deep, read_body, send_whole

Render = Callable[[int, str, str, "str | None"], tuple[bytes, str]]
DEFAULT_MAX_BODY = 1_048_576
WITH_BODY = ("POST", "PUT", "PATCH")


class EdgeSettings:
    """What the edge enforces for one app; `configure` fills it from fleet.yaml."""

    def __init__(self) -> None:
        self.max_body_bytes = DEFAULT_MAX_BODY
        self.name: str | None = None
        self.allowed: tuple[str, ...] | None = None
        self.identities = None

    def configure(self, settings, name: str, *, closed_unless_listed: bool = False) -> None:
        """From the installation's settings, for the app `name` (its serving.apps name).
        `closed_unless_listed`: a URL that skips the router (a model version's own,
        `models/NAME`) is refused to everyone once endpoint_tokens guards anything,
        unless `models/NAME`, `models/*` or "*" lists who may call it."""
        tokens = settings.serving.endpoint_tokens
        self.max_body_bytes = settings.serving.max_body_bytes
        group = f"{name.split('/')[0]}/*" if "/" in name else None
        self.name = name
        self.allowed = tokens.get(name, tokens.get(group, tokens.get("*")))
        if closed_unless_listed and tokens and not self.allowed:
            self.allowed = ()
        if self.allowed is not None and self.identities is None:
            from fleet.identity import Identities
            from fleet.store import open_store

            self.identities = Identities(settings, open_store(settings.resolved_store_url))
            self.identities.start_refresh()

    def refusal(self, authorization: str | None) -> FleetError | None:
        """Why a request with this Authorization header may not pass (None: it may)."""
        if self.identities is None:
            return None
        from fleet.identity import bearer, check_endpoint_caller

        if self.allowed == ():
            return Forbidden(messages.VERSION_URL_CLOSED.format(name=self.name))
        try:
            check_endpoint_caller(self.identities, self.allowed, self.name, bearer(authorization))
        except FleetError as exc:
            return exc
        return None


class ServedEdge:
    def __init__(self, app, edge: EdgeSettings, render: Render) -> None:
        self.app, self.edge, self.render = app, edge, render

    async def _refuse(self, send, status: int, title: str, detail: str,
                      field: str | None = None) -> None:
        body, media = self.render(status, title, detail, field)
        await send_whole(send, status, body, [(b"content-type", media.encode()),
                                              (b"content-length", str(len(body)).encode())])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        edge = self.edge
        auth = headers.get(b"authorization")
        refused = edge.refusal(auth.decode("latin-1") if auth else None)
        if refused is not None:
            return await self._refuse(send, refused.status, refused.title, refused.detail)
        if scope["method"] not in WITH_BODY:
            return await self.app(scope, receive, send)
        body = await read_body(receive, headers, edge.max_body_bytes)
        if body is None:
            return await self._refuse(send, 413, "Payload too large",
                                      messages.SERVED_BODY_TOO_LARGE.format(
                                          limit=edge.max_body_bytes))
        if json_too_deep(body):
            return await self._refuse(send, 422, "Invalid input", messages.JSON_TOO_DEEP
                                      .format(field="body", max=MAX_JSON_DEPTH), "body")
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()  # the client's disconnect, if it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


def validation_answer(exc, render: Render) -> tuple[int, bytes, str]:
    """A 422 naming each invalid field, never the input (FastAPI's default echoes it)."""
    problems = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        problems.append(f"{field}: {e.get('msg', 'invalid')}")
    first = problems[0].split(":", 1)[0] if problems else None
    body, media = render(422, "Invalid input", messages.INVALID_FIELDS.format(
        problems="; ".join(problems[:10])), first)
    return 422, body, media


def guard(api, edge: EdgeSettings, render: Render) -> None:
    """Put the edge in front of a FastAPI app, and its validation answer in place of
    FastAPI's."""
    from fastapi.exceptions import RequestValidationError
    from starlette.responses import Response

    async def invalid(_request, exc):
        status, body, media = validation_answer(exc, render)
        return Response(body, status_code=status, media_type=media)

    api.add_exception_handler(RequestValidationError, invalid)
    api.add_middleware(ServedEdge, edge=edge, render=render)


__all__ = ["EdgeSettings", "ServedEdge", "guard", "validation_answer"]
