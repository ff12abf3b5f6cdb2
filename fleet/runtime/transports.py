"""How the one invoke path reaches the store and the supervisor: one small class per way
of getting there. The path itself (fleet.runtime.api: record, run or submit, read back;
cancel) is written once, as steps that name these methods; a sync driver calls them, an
async driver awaits them. httpx splits its clients the same way, with one request flow
over a sync or an async transport.

- RaySync: the CLI, jobs, scripts and functions: store calls in this thread, the
  supervisor through a blocking Ray actor call.
- RayAsync: an asyncio caller outside the supervisor (a gateway run as a Serve ingress):
  store calls in threads, the supervisor through an awaited Ray actor call.
- InSupervisor: the default gateway, on the supervisor's own event loop: the queued record
  is committed by the supervisor's group writer, and a sync invocation's outcome comes
  back from the supervisor without reading the store again.

Every method returns what the path needs next; `run` and `submit` return the invocation
when they already have it, or None to have it read from the store."""

from __future__ import annotations

import asyncio

from fleet.store import Invocation


class RaySync:
    def __init__(self, client) -> None:
        self.client = client

    def record(self, row: dict) -> tuple[Invocation, bool]:
        return self.client.store.invocations.insert(row)

    def get(self, inv_id: str) -> Invocation:
        return self.client.store.invocations.get(inv_id)

    def run(self, inv: Invocation, wait_s: float | None, fresh: Invocation | None) -> None:
        import ray

        ray.get(self.client.supervisor().run.remote(inv.id, wait_s, fresh))

    def submit(self, inv: Invocation, fresh: Invocation | None) -> None:
        import ray

        ray.get(self.client.supervisor().submit.remote(inv.id, fresh))

    def cancel(self, inv_id: str, caller: str) -> None:
        import ray

        ray.get(self.client.supervisor().cancel.remote(inv_id, caller))


class RayAsync:
    def __init__(self, client) -> None:
        self.client = client

    async def record(self, row: dict) -> tuple[Invocation, bool]:
        return await asyncio.to_thread(self.client.store.invocations.insert, row)

    async def get(self, inv_id: str) -> Invocation:
        return await asyncio.to_thread(self.client.store.invocations.get, inv_id)

    async def run(self, inv: Invocation, wait_s: float | None, fresh: Invocation | None
                  ) -> None:
        await self.client.supervisor().run.remote(inv.id, wait_s, fresh)

    async def submit(self, inv: Invocation, fresh: Invocation | None) -> None:
        await self.client.supervisor().submit.remote(inv.id, fresh)

    async def cancel(self, inv_id: str, caller: str) -> None:
        await self.client.supervisor().cancel.remote(inv_id, caller)


class InSupervisor:
    """`supervisor`: the supervisor instance this gateway runs in. What it offers a
    gateway: `holder` (its lease name), `writer` (the group writer), `submit`,
    `run_local` and `cancel`."""

    def __init__(self, client, supervisor) -> None:
        self.client = client
        self.sup = supervisor

    async def record(self, row: dict) -> tuple[Invocation, bool]:
        row["owner"] = self.sup.holder  # this instance runs it; peers leave it alone
        repo = self.client.store.invocations
        if row.get("idempotency_key") is None:
            inserted = await self.sup.writer.aitem("insert", row)
        else:  # ON CONFLICT DO NOTHING tells whether an earlier one has the key
            inserted = await self.sup.writer.arun(repo.insert_op(row))
        if inserted:
            return repo.created(row, True)
        return await asyncio.to_thread(repo.created, row, False)

    async def get(self, inv_id: str) -> Invocation:
        return await asyncio.to_thread(self.client.store.invocations.get, inv_id)

    async def run(self, inv: Invocation, wait_s: float | None, fresh: Invocation | None
                  ) -> Invocation | None:
        return await self.sup.run_local(inv.id, wait_s, fresh)

    async def submit(self, inv: Invocation, fresh: Invocation | None) -> Invocation:
        await self.sup.submit(inv.id, fresh)
        return inv  # committed as queued: what a 202 promises

    async def cancel(self, inv_id: str, caller: str) -> None:
        await self.sup.cancel(inv_id, caller)


__all__ = ["InSupervisor", "RayAsync", "RaySync"]
