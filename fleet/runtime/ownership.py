"""Which supervisor instance runs an invocation, and when another may take it over.

Several supervisor instances serve the gateway on one port (SO_REUSEPORT), so that killing
one drops only the requests it held. Each runs what its own gateway receives and records
itself as the invocation's `owner`. An invocation with no owner (handed over by `Client`
from the CLI, a job or the scheduler) is the primary's (instance 0).

Every instance renews a member lease of its own each sweep ("member:<owner id>"). The
sweep's lease holder (a primary) adopts an active invocation only when nobody live owns
it: its owner's member lease has lapsed (the instance is gone for good: a `fleet down`, a
lost node; Ray restarts a crashed instance with the same id well inside the TTL, and it
recovers its own work as before). The owner id starts with the instance's actor name, so a
cancel can reach the instance whose task runs the invocation.
"""

from __future__ import annotations

import enum
import uuid

from fleet.runtime.api import SUPERVISOR_NAME

MEMBER = "member:"


class Claim(enum.Enum):
    OWN = "own"  # this instance's (or, for the primary holding the lease, nobody's)
    ADOPT = "adopt"  # its owner is gone: take it over (compare-and-set), then recover it
    LEAVE = "leave"  # a live peer's, or not this instance's to decide


def new_owner_id(actor_name: str) -> str:
    """An instance's id: its actor name, then a random part for this server's lifetime."""
    return f"{actor_name}/{uuid.uuid4().hex[:16]}"


def actor_of(owner: str | None) -> str:
    """The actor name of the instance that owns an invocation (None: the primary)."""
    return SUPERVISOR_NAME if owner is None else owner.split("/", 1)[0]


def member_lease(owner: str) -> str:
    return f"{MEMBER}{owner}"


def runs_here(owner: str | None, me: str, *, primary: bool) -> bool:
    """Whether instance `me` runs an invocation it is asked to start again (an idempotent
    repeat): its own, or nobody's when it is the primary. Another's is left to its owner
    (or, once that one is gone, to the sweep that adopts it)."""
    return owner == me or (owner is None and primary)


def claim(owner: str | None, me: str, *, sweeps: bool, live: set[str]) -> Claim:
    """What instance `me` does with an active invocation that it runs no task for.

    `sweeps`: `me` holds the store's sweep lease (it recovers the unowned and the orphaned);
    `live`: the member leases alive now."""
    if owner == me:
        return Claim.OWN
    if not sweeps:
        return Claim.LEAVE
    if owner is None:
        return Claim.OWN
    return Claim.LEAVE if member_lease(owner) in live else Claim.ADOPT


__all__ = ["Claim", "MEMBER", "actor_of", "claim", "member_lease", "new_owner_id", "runs_here"]
