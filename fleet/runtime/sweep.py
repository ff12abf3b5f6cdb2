"""The supervisor's sweep: adopt what no live task owns.

Only one supervisor sweeps a store's unowned work at a time: the primary instance that
holds the store's "supervisor" lease (fleet.store.leases), renewed every sweep. A second
cluster on the same store (a blue-green upgrade) runs what it is given but leaves the first
one's running work alone until that lease expires; the sweep's own failures are fenced by
the lease's token. Every instance renews its member lease each sweep and recovers its own
work; the lease holder adopts a peer instance's work only once that member lease lapses
(fleet.runtime.ownership).

On restart an instance sweeps the store: queued invocations are submitted; running ones it
no longer owns (their tasks died with the previous process, through no fault of the
function) run again while their `retries` allow, as after a worker death, and only then
fail. The sweep also runs periodically, so an invocation whose caller crashed between
recording it and handing it over still runs.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fleet import messages
from fleet.runtime.ownership import MEMBER, Claim, claim, member_lease
from fleet.store import Status
from fleet.store.leases import Lease, fenced

log = logging.getLogger("fleet.supervisor")
SWEEP_EVERY_S = 5.0
ORPHAN_AFTER_S = 10.0  # a queued invocation nobody handed over for this long gets submitted
LEASE = "supervisor"
LEASE_TTL_S = 30.0  # renewed every sweep (SWEEP_EVERY_S): six sweeps may fail in a row
_db = asyncio.to_thread  # store calls never run on the event loop the gateway shares


class Sweeping:
    """The sweep half of `fleet.runtime.supervisor.Supervisor` (which provides `store`,
    `holder`, `primary`, `lease`, `replicas`, `_tasks`, `_start` and `_finish`)."""

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await self._sweep(recovering=False)
            except Exception:  # keep sweeping; a store hiccup must not kill the loop
                log.exception("sweep failed")

    async def _hold_lease(self) -> Lease | None:
        # Every instance says it is alive (its member lease); a peer's sweep adopts its
        # work only once that lapses.
        await _db(self.store.leases.hold, member_lease(self.holder), self.holder, LEASE_TTL_S)
        if not self.primary:
            return None
        lease = await _db(self.store.leases.hold, LEASE, self.holder, LEASE_TTL_S)
        if lease is None and self.lease is not None:
            log.warning("another supervisor holds this store's lease now; not sweeping")
        self.lease = lease
        return lease

    async def _sample_replicas(self) -> None:
        """Replica-seconds per served version (fleet.runtime.replicas): the lease holder's."""
        try:
            await _db(self.replicas.sample)
        except Exception:  # Serve not started yet, or the store busy: the next sweep counts
            log.debug("replica sample skipped", exc_info=True)

    async def release_lease(self) -> None:
        """Give the sweep's lease up (the server is stopping), so a next server need not
        wait out its TTL before recovering what this one left running."""
        if self.lease is not None:
            await _db(self.store.leases.release, self.lease)
            self.lease = None
        member = await _db(self.store.leases.get, member_lease(self.holder))
        if member is not None and member.holder == self.holder:
            await _db(self.store.leases.release, member)

    async def _sweep(self, *, recovering: bool) -> None:
        """Adopt what no live task owns: this instance's own work after a restart (queued
        work nobody handed over, running work whose task died with it: run again while
        retries allow) and, while holding the store's lease, work nobody owns or whose
        owner instance is gone (fleet.runtime.ownership). The first sweep after taking the
        lease over recovers like a restart."""
        held = self.lease
        lease = await self._hold_lease()
        if lease is not None:
            recovering = recovering or held is None or held.token != lease.token
            if recovering:
                self.replicas.restart_clock()
            await self._sample_replicas()
        live = await _db(self.store.leases.live, MEMBER) if lease is not None else set()
        now = time.time()
        for inv in await _db(self.store.invocations.active):
            if inv.id in self._tasks:
                continue
            what = claim(inv.owner, self.holder, sweeps=lease is not None, live=live)
            if what is Claim.LEAVE:
                continue
            adopted = what is Claim.ADOPT
            if adopted and not await _db(self.store.invocations.adopt, inv.id, inv.owner,
                                         self.holder, fenced(lease)):
                continue  # ended, or another took it first
            if inv.status is Status.RUNNING:
                left = inv.retries - inv.attempts
                if left >= 0:
                    self._start(inv.id, max_retries=left)
                else:
                    await self._finish(inv.id, Status.FAILED, error_type="Interrupted",
                                       fence=fenced(lease) if lease is not None else None,
                                       error_message=messages.LOST_ON_RESTART.format(
                                           attempts=inv.attempts, retries=inv.retries))
            elif adopted or recovering or now - inv.created_at > ORPHAN_AFTER_S:
                self._start(inv.id)  # re-read in _watch: it may have ended since

