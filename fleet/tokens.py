"""Identities' tokens, as a service: who may list, add and revoke them (the admin scope),
and what a token must be (the same rules as fleet.yaml's `tokens:`), for the CLI and the
demo. The store keeps each token's hash and the audit entry (fleet.store.tokens); the
gateway and the CLI resolve tokens to identities through fleet.identity."""

from __future__ import annotations

import time

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput
from fleet.identity import REFRESH_S, Identity
from fleet.store import Store, StoredToken


def check_token(name: str, scopes: list[str], roles: list[str]) -> None:
    """A clear error naming the field when a token's name, scopes or roles are not ones
    fleet.yaml would accept."""
    from fleet.config import TokenConfig

    try:
        TokenConfig(name=name, token_sha256="0" * 64, scopes=tuple(scopes), roles=tuple(roles))
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
        raise InvalidInput(messages.TOKEN_ADD_INVALID.format(name=name, reason=first["msg"]), [
            FieldProblem("scopes" if "scope" in first["msg"] else "name", first["msg"],
                         "Scopes: read, invoke, admin, act_as, notify; a name of 1-64 "
                         "characters.")]) from None


class Tokens:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, who: Identity, *, include_revoked: bool = False) -> list[StoredToken]:
        who.require("admin")
        return self.store.tokens.list(include_revoked=include_revoked)

    def add(self, who: Identity, name: str, *, scopes: list[str], roles: list[str] = (),
            ttl_s: float | None = None, rotate: bool = False) -> tuple[str, StoredToken]:
        """A new person token for `name`: (the token, shown once; its record). `rotate`: a
        second one, with the active one's scopes and roles, to move callers to before the
        old one is revoked by id. Once this returns, every gateway accepts it."""
        who.require("admin")
        check_token(name, list(scopes), list(roles))
        out = self.store.tokens.add(name=name, scopes=list(scopes), roles=list(roles),
                                    actor=who.name, ttl_s=ttl_s, rotate=rotate)
        _settle()
        return out

    def add_client(self, who: Identity, name: str, *, scopes: list[str], ttl_s: float
                   ) -> tuple[str, StoredToken]:
        """A short-lived token for a client of Fleet (a bot console session), not a person:
        it defines no person and carries no roles; it acts for people only with `act_as`.
        Once this returns, every gateway accepts it."""
        who.require("admin")
        check_token(name, list(scopes), [])
        out = self.store.tokens.add(name=name, scopes=list(scopes), roles=[], actor=who.name,
                                    kind="job", ttl_s=ttl_s)
        _settle()
        return out

    def revoke(self, who: Identity, name_or_id: str) -> list[str]:
        """Revoke one token by id, or every active token of an identity; the ids revoked.
        Once this returns, no gateway accepts them."""
        who.require("admin")
        ids = self.store.tokens.revoke(name_or_id, actor=who.name)
        _settle()
        return ids


def _settle() -> None:
    """Wait until every gateway has reloaded the token table (fleet.identity.REFRESH_S)."""
    time.sleep(REFRESH_S * 2)


__all__ = ["Tokens", "check_token"]
