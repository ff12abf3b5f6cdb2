"""Who a Slack user is in Fleet: their own mapping (`bot.users`: Slack user id -> Fleet
identity), else the identity of the first mapped Slack user group they belong to
(`bot.groups`: user group id -> Fleet identity, e.g. an on-call rotation acting as
`oncall`), else nobody (they can read, not act). Group membership comes from Slack's
`usergroups.users.list` (the usergroups:read scope), kept for a minute.

A group maps to one shared identity, so the core treats its members as one person: none of
them can approve what another of them requested. Map people one by one where each must be
accountable on their own."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("fleet.bot")


class People:
    def __init__(self, users: dict[str, str], groups: dict[str, str], client,
                 ttl_s: float = 60.0) -> None:
        self.users, self.groups, self.client, self.ttl_s = users, groups, client, ttl_s
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def identity(self, user: str) -> str | None:
        if user in self.users:
            return self.users[user]
        for group, ident in self.groups.items():
            if user in self._of(group):
                return ident
        return None

    def _of(self, group: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            hit = self._members.get(group)
        if hit and now - hit[0] < self.ttl_s:
            return hit[1]
        try:
            members = frozenset(self.client.usergroups_users_list(usergroup=group)["users"])
        except Exception as exc:  # Slack unreachable: act on what we knew, or nobody
            log.warning("usergroups.users.list %s failed: %s", group, exc)
            return hit[1] if hit else frozenset()
        with self._lock:
            self._members[group] = (now, members)
        return members
