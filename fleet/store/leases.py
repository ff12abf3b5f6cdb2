"""Leases: one holder of a duty per store at a time, with a fencing token.

The supervisor's sweep adopts running invocations that no live task owns, and fails those
out of retries. Two clusters on one store (a blue-green RayService upgrade) would each see
the other's running work as unowned and fail it. So the sweep is a duty held under the
lease "supervisor": a holder renews it well inside its TTL; another cluster takes it only
once it has expired, and the token then goes up by one. A write that must only come from
the holder carries its token (`fenced`): a holder that paused past its TTL (a GC stall, a
network partition) and lost the lease has its late writes refused instead of undoing the
new holder's.

Each supervisor instance also holds a member lease of its own ("member:<its id>"): while it
is live, the sweep's holder leaves the invocations that instance owns alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from fleet.store.engine import Engines
from fleet.store.schema import leases as L


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    token: int
    expires_at: float


class LeaseRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def hold(self, name: str, holder: str, ttl_s: float) -> Lease | None:
        """Take or renew lease `name` for `holder`: the lease when it is (now) ours, None
        while another holder's is unexpired."""
        now = time.time()
        with self._e.write.begin() as conn:
            row = conn.execute(select(L).where(L.c.name == name)).first()
            if row is not None:
                return self._take(conn, row, holder, now, ttl_s)
        try:  # nobody ever held it
            with self._e.write.begin() as conn:
                conn.execute(insert(L).values(name=name, holder=holder, token=1,
                                              expires_at=now + ttl_s, acquired_at=now))
            return Lease(name, holder, 1, now + ttl_s)
        except IntegrityError:
            return None  # another took it in the same instant: theirs

    @staticmethod
    def _take(conn, row, holder: str, now: float, ttl_s: float) -> Lease | None:
        """Renew our own lease, or take an expired one (compare-and-set on holder, token)."""
        if row.holder == holder:  # a renewal keeps the token
            token = row.token
            values = {"expires_at": now + ttl_s}
        elif row.expires_at < now:  # expired: ours now, fencing the old holder out
            token = row.token + 1
            values = {"holder": holder, "token": token, "expires_at": now + ttl_s,
                      "acquired_at": now}
        else:
            return None
        done = conn.execute(update(L).where(
            L.c.name == row.name, L.c.holder == row.holder, L.c.token == row.token
        ).values(**values)).rowcount
        return Lease(row.name, holder, token, now + ttl_s) if done == 1 else None

    def release(self, lease: Lease) -> None:
        """Give the lease up now (a clean shutdown), so the next holder need not wait."""
        with self._e.write.begin() as conn:
            conn.execute(update(L).where(L.c.name == lease.name, L.c.holder == lease.holder,
                                         L.c.token == lease.token).values(expires_at=0.0))

    def live(self, prefix: str) -> set[str]:
        """Names of the unexpired leases whose name starts with `prefix` (e.g. the member
        leases of the supervisor instances that are alive)."""
        with self._e.read.connect() as conn:
            rows = conn.execute(select(L.c.name).where(L.c.name.startswith(prefix),
                                                       L.c.expires_at > time.time()))
            return {r.name for r in rows}

    def get(self, name: str) -> Lease | None:
        with self._e.read.connect() as conn:
            row = conn.execute(select(L).where(L.c.name == name)).first()
        return None if row is None else Lease(row.name, row.holder, row.token,
                                              row.expires_at)


def fenced(lease: Lease):
    """A WHERE clause that holds only while `lease` is still the current one: add it to a
    write that only the holder may make."""
    return exists(select(L.c.name).where(and_(L.c.name == lease.name,
                                              L.c.token == lease.token,
                                              L.c.holder == lease.holder)))


__all__ = ["Lease", "LeaseRepo", "fenced"]
