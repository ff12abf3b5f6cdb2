"""The bot's only way into Fleet: the gateway's HTTP API, as itself (reads) or on behalf of
the Slack user who typed or clicked (`X-Fleet-Act-As`). The bot holds no rules: the core
decides roles, self-approval, single use and expiry, and the bot shows its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

ACT_AS = "X-Fleet-Act-As"


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def detail(self) -> str:
        """The core's own sentence for a refusal (with the field problems, if any)."""
        if isinstance(self.body, dict):
            text = str(self.body.get("detail", self.body))
            errors = self.body.get("errors") or []
            lines = [f"• `{e['field']}`: {e['message']}" + (f" ({e['fix']})" if e.get("fix")
                                                             else "") for e in errors]
            return "\n".join([text, *lines])
        return str(self.body)


class FleetAPI:
    def __init__(self, gateway_url: str, token: str, timeout_s: float = 30.0) -> None:
        self._http = httpx.Client(base_url=gateway_url, timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {token}"})

    def _call(self, method: str, path: str, person: str | None, **kw) -> Answer:
        headers = {ACT_AS: person} if person else {}
        try:
            r = self._http.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            return Answer(503, {"detail": f"unreachable: {type(exc).__name__}"})
        try:
            body = r.json()
        except ValueError:
            body = {"detail": r.text[:500]}
        return Answer(r.status_code, body)

    def read(self, path: str, **params) -> Answer:
        """As the bot itself: anyone in the channel may read."""
        return self._call("GET", path, None, params=params or None)

    def read_bytes(self, path: str) -> bytes | None:
        """A binary resource (a plot) as the bot itself; None if it cannot be had."""
        try:
            r = self._http.get(path)
        except httpx.HTTPError:
            return None
        return r.content if r.status_code == 200 else None

    def as_bot(self, method: str, path: str, **kw) -> Answer:
        """As the bot itself, for what only it does: claiming and reporting outbox
        deliveries (the notify scope)."""
        return self._call(method, path, None, **kw)

    def act(self, person: str, method: str, path: str, **kw) -> Answer:
        """On behalf of a person Fleet knows; never as the bot itself."""
        if not person:
            raise ValueError("act needs a person")
        return self._call(method, path, person, **kw)

    def close(self) -> None:
        self._http.close()
