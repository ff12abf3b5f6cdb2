"""The name rules every edge checks, written once: the gateway's paths, the router, the
CLI, request models, the store's checks and fleet.yaml all take them from here, so a name
one entry point accepts is never refused by another.

Each is a regular expression string (pydantic's and FastAPI's `pattern=` take it as is)
with a compiled twin for code that matches by hand.
"""

from __future__ import annotations

import re

# A function: a Python identifier in lower case (its module attribute, its URL segment).
FUNCTION_NAME = r"^[a-z][a-z0-9_]{0,62}$"
# An endpoint (a URL segment, a Serve app name prefix): lower case, digits, '-'.
ENDPOINT_NAME = r"^[a-z][a-z0-9-]{0,62}$"
# A model in the registry: what an experiment is called, dots allowed (team.churn).
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
# A model alias (champion, staging): lower case, digits, '_' and '-'.
ALIAS_NAME = r"^[a-z][a-z0-9_-]{0,63}$"
# A knowledge base: Chroma's collection rules, in lower case.
KB_NAME = r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$"
# An outbox consumer (slack, a webhook's name).
CONSUMER_NAME = r"^[a-z][a-z0-9_-]{0,63}$"
# A caller's Idempotency-Key, in characters.
MAX_IDEMPOTENCY_KEY = 256

FUNCTION_RE = re.compile(FUNCTION_NAME)
ENDPOINT_RE = re.compile(ENDPOINT_NAME)
MODEL_RE = re.compile(MODEL_NAME)
ALIAS_RE = re.compile(ALIAS_NAME)

__all__ = ["ALIAS_NAME", "ALIAS_RE", "CONSUMER_NAME", "ENDPOINT_NAME", "ENDPOINT_RE",
           "FUNCTION_NAME", "FUNCTION_RE", "KB_NAME", "MAX_IDEMPOTENCY_KEY", "MODEL_NAME",
           "MIN_SHOWN", "MODEL_RE", "OWN_KEY_PREFIX",
           "scoped_key", "short_ids", "unscoped_key"]


# -- idempotency keys belong to whoever made them

OWN_KEY_PREFIX = "fleet:"


def scoped_key(key: str | None, caller: str | None) -> str | None:
    """The key as stored: a caller's key is theirs alone (the same key from two identities
    is two invocations), and Fleet's own keys (an approval's action, a schedule's slot)
    live where no caller's key can land. `caller` None: one of Fleet's own keys.

    A caller's key is `<len(caller)>:<caller>:<key>` (digits first); Fleet's is
    `fleet:<key>` (a letter first), so no caller's key can equal one of Fleet's."""
    if key is None:
        return None
    return OWN_KEY_PREFIX + key if caller is None else f"{len(caller)}:{caller}:{key}"


def unscoped_key(stored: str | None) -> str | None:
    """The key as its maker gave it (what records show)."""
    if stored is None:
        return None
    if stored.startswith(OWN_KEY_PREFIX):
        return stored[len(OWN_KEY_PREFIX):]
    n, sep, rest = stored.partition(":")
    if sep and n.isdigit() and len(rest) > int(n) and rest[int(n)] == ":":
        return rest[int(n) + 1:]
    return stored


# -- ids as lists show them (every `get` by id also takes a unique prefix: fleet.store.ids)

MIN_SHOWN = 12  # what lists show at least (type prefix + 8 or more hex digits)


def short_ids(ids: list[str], min_len: int = MIN_SHOWN) -> dict[str, str]:
    """Each id's shortest prefix of at least `min_len` characters that no other listed id
    shares."""
    out = {}
    for i in ids:
        n = min(min_len, len(i))
        while n < len(i) and any(o != i and o.startswith(i[:n]) for o in ids):
            n += 1
        out[i] = i[:n]
    return out
