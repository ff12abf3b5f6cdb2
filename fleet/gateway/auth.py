"""The gateway's authentication: a bearer token names an `Identity` (fleet.identity), and
`X-Fleet-Act-As: NAME` lets a client with the `act_as` scope act for a person Fleet knows."""

from __future__ import annotations

from fastapi import Request

from fleet import messages
from fleet.config import Settings
from fleet.errors import Unauthorized
from fleet.identity import Identities, Identity, bearer

ACT_AS_HEADER = "x-fleet-act-as"

__all__ = ["ACT_AS_HEADER", "Identity", "TokenAuth"]


class TokenAuth:
    def __init__(self, settings: Settings, store=None) -> None:
        self.identities = Identities(settings, store)
        self.identities.start_refresh()

    def identify(self, header: str | None) -> Identity:
        token = bearer(header)
        if token is None:
            raise Unauthorized(messages.AUTH_MISSING)
        return self.identities.identify(token)

    def check(self, request: Request, scope: str) -> Identity:
        return self.check_headers(request.headers.get("authorization"),
                                  request.headers.get(ACT_AS_HEADER), scope)

    def check_headers(self, authorization: str | None, person: str | None,
                      scope: str) -> Identity:
        ident = self.identify(authorization)
        if person:
            ident = self.identities.act_as(ident, person.strip())
        return ident.require(scope)

    def require(self, scope: str):
        # async: FastAPI runs a plain-def dependency in its thread pool, a thread hop per
        # request for a check that is pure CPU and takes microseconds.
        async def dependency(request: Request) -> Identity:
            return self.check(request, scope)

        return dependency
