"""Bearer tokens with scopes. `admin` implies `invoke`, which implies `read`."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from fleet import messages
from fleet.config import Settings
from fleet.errors import Forbidden, Unauthorized

IMPLIES = {"admin": {"admin", "invoke", "read"}, "invoke": {"invoke", "read"}, "read": {"read"}}


@dataclass(frozen=True)
class Identity:
    name: str
    scopes: frozenset[str]
    roles: frozenset[str] = frozenset()


class TokenAuth:
    def __init__(self, settings: Settings) -> None:
        self._tokens = [(t.token.encode(), Identity(t.name, frozenset(
            s for scope in t.scopes for s in IMPLIES[scope]), frozenset(t.roles)))
            for t in settings.tokens]

    def identify(self, header: str | None) -> Identity:
        if not header or not header.lower().startswith("bearer "):
            raise Unauthorized(messages.AUTH_MISSING)
        presented = header[7:].strip().encode()
        found = None
        for token, ident in self._tokens:  # compare against all: constant-time per token
            if hmac.compare_digest(token, presented):
                found = ident
        if found is None:
            raise Unauthorized(messages.AUTH_INVALID)
        return found

    def check(self, request: Request, scope: str) -> Identity:
        ident = self.identify(request.headers.get("authorization"))
        if scope not in ident.scopes:
            raise Forbidden(messages.AUTH_SCOPE.format(who=ident.name, scope=scope))
        return ident

    def require(self, scope: str):
        # async: FastAPI runs a plain-def dependency in its thread pool, a thread hop per
        # request for a check that is pure CPU and takes microseconds.
        async def dependency(request: Request) -> Identity:
            return self.check(request, scope)

        return dependency
