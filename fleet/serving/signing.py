"""Signed request ids: each answer's id names the endpoint, the version, when it was issued
and whether a bandit chose it, signed with a key kept in the store. So feedback needs no
memory of issued ids and survives a router restart, on any router instance: an id from
elsewhere does not verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

KEY_NAME = "router.request_id_key"  # in the store's kv table, made once


class RequestIds:
    """Signs and verifies request ids with the installation's key."""

    def __init__(self, store) -> None:
        self._key = store.kv.get_or_create(KEY_NAME, lambda: secrets.token_hex(32)).encode()

    def sign(self, endpoint: str, version: str, issued: float | None = None, *,
             bandit: bool = True) -> str:
        issued = time.time() if issued is None else issued
        raw = (f"{endpoint}\n{version}\n{issued:.3f}\n{secrets.token_hex(6)}"
               f"\n{'b' if bandit else '-'}").encode()
        mac = hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:32]
        return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + mac

    def verify(self, rid: str) -> tuple[str, str, float, bool] | None:
        """(endpoint, version, issued_at, chosen by a bandit) of an id this installation
        signed, else None. Ids signed before the bandit flag existed were all bandit ones."""
        try:
            data, mac = rid.rsplit(".", 1)
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except (ValueError, AttributeError):
            return None
        good = hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(good, mac):
            return None
        endpoint, version, issued, _nonce, *flag = raw.decode().split("\n")
        return endpoint, version, float(issued), flag != ["-"]


__all__ = ["KEY_NAME", "RequestIds"]
