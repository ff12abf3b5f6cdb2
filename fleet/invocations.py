"""Invocations, as a service: every entry point (the gateway, the CLI, jobs, the bot
through the gateway) starts, reads and cancels invocations here, as an identity. The one
invoke path itself (validate, record, hand to the supervisor) is the runtime's Client;
this module decides who may use it, so each rule about invocations has one home.

Who sees and stops what:
- an invocation's input, result, error message and progress are its caller's: the read
  scope shows them on the caller's own invocations; on anyone else's the record shows
  its function, status, caller and times, with those fields empty. The admin scope and
  the `auditor` role see every invocation whole.
- an invocation is cancelled by its caller, or by a role that grants `cancel` on its
  function (the default `operator` role), or the admin scope.
- a function that changes what serves production (deploy, rollout, rag_ingest) declares
  the verb and resource it needs (`@function(requires=...)`): its caller needs a role that
  grants it (fleet.config.roles), checked here after the input is validated (a malformed
  request is a 422 whoever sends it).
- an Idempotency-Key is its caller's (fleet.names.scoped_key)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fleet import messages, permissions
from fleet.errors import Forbidden
from fleet.identity import Identity, sees_all
from fleet.names import scoped_key
from fleet.runtime import Client
from fleet.store import Invocation


def as_seen_by(who: Identity, inv: Invocation) -> Invocation:
    """The record `who` may see: whole when it is theirs (or they see all), else without
    what only its caller gave or got back."""
    if inv.caller == who.name or sees_all(who):
        return inv
    return dataclasses.replace(inv, payload=None, result=None, error_message=None,
                               progress=None)


class Invocations:
    def __init__(self, client: Client) -> None:
        self.client = client

    def invoke(self, who: Identity, name: str, payload: Any = None, *, via: str,
               idempotency_key: str | None = None, wait: bool = True,
               wait_s: float | None = None, ray_job_id: str | None = None) -> Invocation:
        """Run `name` as `who` (the invoke scope); wait=False returns it queued."""
        who.require("invoke")
        self._check_role(who, name, payload)
        return self.client.invoke(name, payload, caller=who.name, via=via,
                                  idempotency_key=idempotency_key, wait=wait, wait_s=wait_s,
                                  ray_job_id=ray_job_id)

    async def ainvoke(self, who: Identity, name: str, payload: Any = None, *, via: str,
                      idempotency_key: str | None = None, wait: bool = True,
                      wait_s: float | None = None) -> Invocation:
        """`invoke` for asyncio callers (the gateway)."""
        who.require("invoke")
        self._check_role(who, name, payload)
        return await self.client.ainvoke(name, payload, caller=who.name, via=via,
                                         idempotency_key=idempotency_key, wait=wait,
                                         wait_s=wait_s)

    def get(self, who: Identity, inv_id: str, *, wait: bool = False) -> Invocation:
        """One invocation (the id or a unique prefix); wait=True waits for its end."""
        who.require("read")
        return as_seen_by(who, self.client.wait(inv_id) if wait else self.client.get(inv_id))

    def list(self, who: Identity, *, function: str | None = None, status: str | None = None,
             via: str | None = None, limit: int = 50) -> list[Invocation]:
        who.require("read")
        return [as_seen_by(who, i) for i in self.client.list(function=function, status=status,
                                                             via=via, limit=limit)]

    def by_key(self, who: Identity, idempotency_key: str) -> Invocation | None:
        """The invocation `who`'s own idempotency key started, if any."""
        who.require("read")
        return self.client.store.invocations.by_idempotency_key(
            scoped_key(idempotency_key, who.name))

    def _check_role(self, who: Identity, name: str, payload: Any) -> None:
        """The role a function's input needs (its spec's `requires`), if any."""
        spec = self.client.registry.get(name)
        if spec.requires is None or "admin" in who.scopes:
            return
        from fleet.runtime.payloads import validate_payload

        req = spec.input_model.model_validate(validate_payload(spec, payload))
        need = spec.requires(req)
        if need is not None:
            permissions.require(self.client.settings, who, *need)

    def _may_cancel(self, who: Identity, inv: Invocation) -> None:
        resource = f"function:{inv.function}"
        if inv.caller != who.name and not permissions.allows(self.client.settings, who,
                                                              "cancel", resource):
            roles = permissions.granting(self.client.settings, "cancel", resource)
            raise Forbidden(messages.NOT_YOURS_TO_CANCEL.format(
                who=who.name, id=inv.id, owner=inv.caller,
                role=" or ".join(roles) or "operator"))

    def cancel(self, who: Identity, inv_id: str) -> Invocation:
        """Cancel as `who`: their own invocation, or anyone's with admin or `operator`."""
        who.require("invoke")
        inv = self.client.get(inv_id)
        self._may_cancel(who, inv)
        return as_seen_by(who, self.client.cancel(inv.id, caller=who.name))

    async def acancel(self, who: Identity, inv_id: str) -> Invocation:
        who.require("invoke")
        inv = await asyncio.to_thread(self.client.get, inv_id)
        self._may_cancel(who, inv)
        return as_seen_by(who, await self.client.acancel(inv.id, caller=who.name))

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


__all__ = ["Invocation", "Invocations", "as_seen_by"]
