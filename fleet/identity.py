"""Who is acting: one `Identity` for every entry point (HTTP, CLI, jobs, the Slack bot).

- A bearer token names an identity. Tokens live as SHA-256 hashes in the store
  (`fleet tokens add|list|revoke`) or in fleet.yaml (`token_sha256`, or a plain `token`
  kept for old installations). `identify` compares the presented token's hash with every
  known hash in constant time.
- The CLI without a token acts as `local-admin`: whoever can read FLEET_HOME can read the
  admin token anyway, and the audit log says which actions came from the local machine.
  It has no roles, so it approves nothing.
- A Ray job acts as the identity of the `FLEET_TOKEN` it was started with (`fleet invoke
  --via job` mints a short-lived one), or as `ray-job` (read and invoke, no roles).
- A trusted client (the Slack bot) with the `act_as` scope may act for a person Fleet
  knows: the person's own scopes (capped by the client's) and roles apply, never any the
  client claims.

Scopes: `admin` implies `invoke`, which implies `read`. `act_as` is granted on its own.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

from fleet import messages
from fleet.config import Settings
from fleet.errors import Forbidden, Unauthorized
from fleet.store.tokens import token_hash

IMPLIES = {"admin": {"admin", "invoke", "read", "notify"}, "invoke": {"invoke", "read"},
           "read": {"read"}, "act_as": {"act_as"},
           "notify": {"notify", "read"}}  # claim and report outbox deliveries (the bot)
LOCAL_ADMIN = "local-admin"
RAY_JOB = "ray-job"
REFRESH_S = 0.25  # how stale a gateway's view of the token table may be


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header or not header.lower().startswith("bearer "):
        return None
    return header[7:].strip()


def expand(scopes) -> frozenset[str]:
    return frozenset(s for scope in scopes for s in IMPLIES.get(scope, ()))


@dataclass(frozen=True)
class Identity:
    """`name` is what the store records (caller, actor, requester, decider). `on_behalf_of`
    names the client that acts for this person, if any."""

    name: str
    scopes: frozenset[str]
    roles: frozenset[str] = frozenset()
    on_behalf_of: str | None = None

    def require(self, scope: str) -> Identity:
        if scope not in self.scopes:
            raise Forbidden(messages.AUTH_SCOPE.format(who=self.name, scope=scope))
        return self


AUDITOR = "auditor"  # a role: reads every invocation whole, and the audit trail


def sees_all(who: Identity) -> bool:
    """Whether `who` reads everyone's records whole: the admin scope or the auditor role."""
    return "admin" in who.scopes or AUDITOR in who.roles


def local_admin() -> Identity:
    return Identity(LOCAL_ADMIN, expand(["admin"]))


FLEET = "fleet"  # Fleet itself: a Serve app reading what it serves, the server restoring apps


def fleet_itself() -> Identity:
    """Fleet acting on its own (no caller): reads, and records what it restores."""
    return Identity(FLEET, expand(["invoke"]))


def ray_job() -> Identity:
    return Identity(RAY_JOB, expand(["invoke"]))


@dataclass(frozen=True)
class _Known:
    sha256: bytes
    identity: Identity
    person: bool  # a person's own token (its record defines the person), not a job token


def _index(known: list[_Known]) -> dict[bytes, _Known]:
    """Known tokens by hash; a later entry (the store's) wins over fleet.yaml's."""
    return {k.sha256: k for k in known}


def check_endpoint_caller(identities: Identities, allowed, endpoint: str,
                          token: str | None) -> None:
    """serving.endpoint_tokens' rule, for every entry point that serves an endpoint (the
    router, the RAG app): only a token of one of the `allowed` identities. Raises
    Unauthorized (no token, or one nobody has) or Forbidden (an identity not listed)."""
    if token is None:
        raise Unauthorized(messages.ROUTER_TOKEN_NEEDED.format(endpoint=endpoint,
                                                               names=", ".join(allowed)))
    who = identities.identify(token)
    if who.name not in allowed:
        raise Forbidden(messages.ROUTER_TOKEN_REFUSED.format(who=who.name, endpoint=endpoint))


class Identities:
    """The identities an installation knows, from fleet.yaml and the store's token table.

    `refresh()` reloads the table; a gateway calls it from a background thread every
    REFRESH_S (`start_refresh`), so no request waits on the store to authenticate, and a
    revoked token is refused within REFRESH_S everywhere (`fleet tokens revoke` waits that
    long before it returns)."""

    def __init__(self, settings: Settings, store=None) -> None:
        self.store = store
        self._config: list[_Known] = []
        for t in settings.tokens:
            digest = t.token_sha256 or token_hash(t.token.get_secret_value())
            self._config.append(_Known(bytes.fromhex(digest), Identity(
                t.name, expand(t.scopes), frozenset(t.roles)), True))
        self._known = list(self._config)
        self._by_hash = _index(self._known)
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._thread: threading.Thread | None = None
        if store is not None:
            self.refresh()

    def refresh(self) -> None:
        rows = self.store.tokens.active() if self.store is not None else []
        known = list(self._config) + [
            _Known(bytes.fromhex(t.sha256), Identity(t.name, expand(t.scopes),
                                                     frozenset(t.roles)), t.kind == "person")
            for t in rows]
        by_hash = _index(known)
        with self._lock:
            self._known, self._by_hash = known, by_hash
            self._loaded_at = time.monotonic()

    def start_refresh(self, every_s: float = REFRESH_S) -> None:
        """Keep the table fresh from a daemon thread (the gateway's; idempotent)."""
        if self._thread is not None or self.store is None:
            return

        def loop() -> None:
            while True:
                time.sleep(every_s)
                try:
                    self.refresh()
                except Exception:  # the store is away: keep the last view, try again
                    pass

        self._thread = threading.Thread(target=loop, name="fleet-identities", daemon=True)
        self._thread.start()

    def identify(self, token: str | None) -> Identity:
        """The identity of a bearer token; Unauthorized if none has it."""
        if not token:
            raise Unauthorized(messages.AUTH_MISSING)
        presented = bytes.fromhex(token_hash(token))
        with self._lock:
            found = self._by_hash.get(presented)
        # A lookup by the SHA-256 of the token, as GitHub finds hashed tokens: its cost does
        # not grow with the number of tokens (with 10,000 tokens: 0.002 ms against 2.1 ms
        # comparing with each in turn), and its timing could reveal a hash prefix, not a token.
        if found is None or not hmac.compare_digest(found.sha256, presented):
            raise Unauthorized(messages.AUTH_INVALID)
        return found.identity

    def person(self, name: str) -> Identity | None:
        """The identity a person's own token gives (config or store), or None."""
        with self._lock:
            known = self._known
        for k in known:
            if k.person and k.identity.name == name:
                return k.identity
        return None

    def act_as(self, client: Identity, name: str) -> Identity:
        """`client` acting for the person `name`: the person's roles, and the person's
        scopes capped by the client's. Only a client with `act_as` may; never for itself
        a wider identity than either has."""
        if "act_as" not in client.scopes:
            raise Forbidden(messages.ACT_AS_SCOPE.format(who=client.name))
        person = self.person(name)
        if person is None:
            raise Forbidden(messages.UNKNOWN_PERSON.format(name=name))
        scopes = (person.scopes & client.scopes) - {"act_as"}
        return Identity(person.name, frozenset(scopes), person.roles, on_behalf_of=client.name)

    def scopes_of(self, name: str) -> Identity:
        """Who `name` is when only the name travels (an invocation's caller inside a
        function): the person's identity, local-admin, ray-job, or read-only."""
        if name == LOCAL_ADMIN:
            return local_admin()
        if name == RAY_JOB:
            return ray_job()
        return self.person(name) or Identity(name, expand(["read"]))

    def of_caller(self, name: str) -> Identity:
        """Who a running invocation acts as: its caller's scopes and roles (scopes_of), and
        at least `invoke`, the scope its entry point admitted it with (a scheduled slot's
        or a job token's caller has no person record of its own)."""
        who = self.scopes_of(name)
        if "invoke" in who.scopes:
            return who
        return Identity(who.name, who.scopes | expand(["invoke"]), who.roles, who.on_behalf_of)
