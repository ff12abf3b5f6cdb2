"""Invocations, as a service: every entry point (the gateway, the CLI, jobs, the bot
through the gateway) starts, reads and cancels invocations here, as an identity. The one
invoke path itself (validate, record, hand to the supervisor) is the runtime's Client;
this module decides who may use it, so each rule about invocations has one home."""

from __future__ import annotations

from typing import Any

from fleet.identity import Identity
from fleet.runtime import Client
from fleet.store import Invocation


class Invocations:
    def __init__(self, client: Client) -> None:
        self.client = client

    def invoke(self, who: Identity, name: str, payload: Any = None, *, via: str,
               idempotency_key: str | None = None, wait: bool = True,
               wait_s: float | None = None, ray_job_id: str | None = None) -> Invocation:
        """Run `name` as `who` (the invoke scope); wait=False returns it queued."""
        who.require("invoke")
        return self.client.invoke(name, payload, caller=who.name, via=via,
                                  idempotency_key=idempotency_key, wait=wait, wait_s=wait_s,
                                  ray_job_id=ray_job_id)

    async def ainvoke(self, who: Identity, name: str, payload: Any = None, *, via: str,
                      idempotency_key: str | None = None, wait: bool = True,
                      wait_s: float | None = None) -> Invocation:
        """`invoke` for asyncio callers (the gateway)."""
        who.require("invoke")
        return await self.client.ainvoke(name, payload, caller=who.name, via=via,
                                         idempotency_key=idempotency_key, wait=wait,
                                         wait_s=wait_s)

    def get(self, who: Identity, inv_id: str, *, wait: bool = False) -> Invocation:
        """One invocation (the id or a unique prefix); wait=True waits for its end."""
        who.require("read")
        return self.client.wait(inv_id) if wait else self.client.get(inv_id)

    def list(self, who: Identity, *, function: str | None = None, status: str | None = None,
             via: str | None = None, limit: int = 50) -> list[Invocation]:
        who.require("read")
        return self.client.list(function=function, status=status, via=via, limit=limit)

    def by_key(self, who: Identity, idempotency_key: str) -> Invocation | None:
        """The invocation an idempotency key started, if any."""
        who.require("read")
        return self.client.store.invocations.by_idempotency_key(idempotency_key)

    def cancel(self, who: Identity, inv_id: str) -> Invocation:
        who.require("invoke")
        return self.client.cancel(inv_id, caller=who.name)

    async def acancel(self, who: Identity, inv_id: str) -> Invocation:
        who.require("invoke")
        return await self.client.acancel(inv_id, caller=who.name)

    def counts(self, who: Identity) -> dict[str, int]:
        """How many invocations are in each status (for `fleet status`)."""
        who.require("read")
        out: dict[str, int] = {}
        for _function, status, _via, n in self.client.store.invocations.counts():
            out[status] = out.get(status, 0) + n
        return out

    def healthy(self) -> None:
        """Raises when the store does not answer (the gateway's /healthz)."""
        self.client.store.invocations.list(limit=1)


__all__ = ["Invocation", "Invocations"]
