"""Bearer tokens, stored as SHA-256 hashes: the store never holds a token it could leak.

A token is random (32 bytes), so one unsalted SHA-256 is enough: there is nothing to
brute-force. `add` returns the token once; afterwards only its hash exists. Revoking marks
the row; every gateway reloads the active set within `identity.REFRESH_S`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from fleet import messages
from fleet.errors import Conflict, NotFound
from fleet.store import audit
from fleet.store.engine import Engines
from fleet.store.schema import tokens as T

PREFIX = "flt_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class StoredToken:
    id: str
    name: str
    sha256: str
    scopes: list[str]
    roles: list[str]
    kind: str
    created_at: float
    created_by: str
    expires_at: float | None
    revoked_at: float | None
    revoked_by: str | None

    def public(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("sha256")
        return d


def _accepted(now: float):
    """The tokens a gateway accepts at `now`: not revoked, not expired."""
    return and_(T.c.revoked_at.is_(None), or_(T.c.expires_at.is_(None), T.c.expires_at > now))


class TokenRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def add(self, *, name: str, scopes: list[str], roles: list[str], actor: str,
            kind: str = "person", ttl_s: float | None = None, rotate: bool = False
            ) -> tuple[str, StoredToken]:
        """A new token for identity `name`; returns (token, record). A person's token
        defines the person, so a second `add` of a name with an active one is refused,
        except to rotate (`rotate`): one more token, with the active one's scopes and roles,
        while callers move to it (then the old one is revoked by its id)."""
        token, now = new_token(), time.time()
        tid = "tok_" + uuid.uuid4().hex[:12]
        with self._e.write.begin() as conn:
            held = [StoredToken(**dict(r._mapping)) for r in conn.execute(select(T).where(
                T.c.name == name, T.c.kind == "person", _accepted(now)))] \
                if kind == "person" else []
            if rotate:
                if not held:
                    raise NotFound(messages.TOKEN_NOTHING_TO_ROTATE.format(name=name))
                if len(held) > 1:
                    raise Conflict(messages.TOKEN_ROTATING.format(
                        name=name, ids=", ".join(t.id for t in held)))
                scopes, roles = held[0].scopes, held[0].roles
            elif held:
                raise Conflict(messages.TOKEN_EXISTS.format(name=name))
            conn.execute(insert(T).values(
                id=tid, name=name, sha256=token_hash(token), scopes=list(scopes),
                roles=list(roles), kind=kind, created_at=now, created_by=actor,
                expires_at=None if ttl_s is None else now + ttl_s))
            audit.record(conn, actor=actor, action="token.add", target=f"identity:{name}",
                         detail={"id": tid, "scopes": list(scopes), "roles": list(roles),
                                 "kind": kind, "ttl_s": ttl_s,
                                 "rotates": held[0].id if rotate else None})
        return token, self.get(tid)

    def get(self, tid: str) -> StoredToken:
        with self._e.read.connect() as conn:
            r = conn.execute(select(T).where(T.c.id == tid)).first()
        if r is None:
            raise NotFound(messages.UNKNOWN_TOKEN.format(name=tid))
        return StoredToken(**dict(r._mapping))

    def list(self, *, include_revoked: bool = False, kind: str | None = None
             ) -> list[StoredToken]:
        q = select(T).order_by(T.c.created_at.desc())
        if not include_revoked:
            q = q.where(T.c.revoked_at.is_(None))
        if kind:
            q = q.where(T.c.kind == kind)
        with self._e.read.connect() as conn:
            return [StoredToken(**dict(r._mapping)) for r in conn.execute(q)]

    def active(self, now: float | None = None) -> list[StoredToken]:
        """Tokens a gateway accepts now: not revoked, not expired."""
        q = select(T).where(_accepted(time.time() if now is None else now))
        with self._e.read.connect() as conn:
            return [StoredToken(**dict(r._mapping)) for r in conn.execute(q)]

    def revoke(self, name_or_id: str, *, actor: str) -> list[str]:
        """Revoke the token with this id, or every active token of this identity (its job
        tokens too). Returns the ids revoked; NotFound if none was active."""
        now = time.time()
        with self._e.write.begin() as conn:
            ids = [tid for (tid,) in conn.execute(select(T.c.id).where(
                or_(T.c.id == name_or_id, T.c.name == name_or_id),
                T.c.revoked_at.is_(None)))]
            if not ids:
                raise NotFound(messages.UNKNOWN_TOKEN.format(name=name_or_id))
            conn.execute(update(T).where(T.c.id.in_(ids)).values(revoked_at=now,
                                                                  revoked_by=actor))
            audit.record(conn, actor=actor, action="token.revoke",
                         target=f"identity:{name_or_id}", detail={"ids": ids})
        return ids
