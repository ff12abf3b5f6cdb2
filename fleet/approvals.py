"""The approval policy, in one place: every entry point (gateway, CLI, jobs and functions,
the Slack bot through the gateway) decides approvals and moves aliases through here.

Rules (four eyes, as in Flagger's and Spinnaker's manual judgements, but enforced by the
core rather than a UI):
- a request is decided by an identity with its role, once, before it expires;
- nobody decides what they set in motion: not the requester, not any other party named on
  the request (the person who started a rollout, when someone else asks to promote it);
- moving an alias needs the `admin` scope; a protected alias (approvals.protected_aliases)
  moves only through an approved request.

The store keeps the rows (fleet.store.approvals: one compare-and-set per decision that also
re-checks the expiry); this module decides who may write them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fleet import messages, permissions
from fleet.config import Settings
from fleet.errors import Conflict, Forbidden
from fleet.identity import Identity
from fleet.names import scoped_key
from fleet.store import Approval, Store
from fleet.store.models import apply_alias_move

PENDING = "pending"


class Approvals:
    def __init__(self, store: Store, settings: Settings,
                 clock: Callable[[], float] = time.time, invoke: Callable | None = None
                 ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._invoke = invoke  # how an approved action runs (default: a runtime Client)

    # -- reading ----------------------------------------------------------------------------

    def list(self, who: Identity, *, status: str | None = None, limit: int = 100
             ) -> list[Approval]:
        who.require("read")
        return self.store.approvals.list(status=status, limit=limit)

    def get(self, who: Identity | None, aid: str) -> Approval:
        """One request (the id or a unique prefix). `who` None: a gate's open/closed state,
        which Flagger polls without a token."""
        if who is not None:
            who.require("read")
        return self.store.approvals.get(aid)

    def action_invocation(self, who: Identity, aid: str):
        """The invocation an approved action started, if it has started."""
        who.require("read")
        return self._action_run(self.store.approvals.get(aid).id)

    def _action_run(self, aid: str):
        return self.store.invocations.by_idempotency_key(scoped_key(action_key(aid), None))

    # -- deciding ---------------------------------------------------------------------------

    def _refuse(self, ap: Approval, who: Identity, reason: str, exc: Exception):
        self.store.approvals.record_refusal(ap.id, who.name, reason)
        raise exc

    def parties(self, ap: Approval) -> set[str]:
        """Everyone who set this request in motion: none of them may decide it."""
        return {ap.requested_by, *((ap.payload or {}).get("parties") or [])}

    def decide(self, who: Identity, aid: str, *, approve: bool, comment: str = "") -> Approval:
        """Approve or reject as `who`; a clear refusal (audited) when the rules say no."""
        ap = self.store.approvals.get(aid)
        aid = ap.id  # a unique prefix names it too
        now = self.clock()
        if ap.status != PENDING:
            self._refuse(ap, who, "already decided", Conflict(messages.APPROVAL_DECIDED.format(
                id=aid, status=ap.status, who=ap.decided_by or "expiry")))
        if now >= ap.expires_at:
            self.store.approvals.expire(aid)
            self._refuse(ap, who, "expired", Conflict(messages.APPROVAL_EXPIRED.format(id=aid)))
        if who.name in self.parties(ap):
            self._refuse(ap, who, "self-approval", Forbidden(
                messages.APPROVAL_SELF.format(id=aid, who=who.name)))
        if "invoke" not in who.scopes:
            self._refuse(ap, who, "missing scope invoke", Forbidden(
                messages.AUTH_SCOPE.format(who=who.name, scope="invoke")))
        if ap.role not in who.roles:
            self._refuse(ap, who, f"missing role {ap.role}", Forbidden(
                messages.APPROVAL_ROLE.format(id=aid, who=who.name, role=ap.role)))
        detail = {"on_behalf_of": who.on_behalf_of} if who.on_behalf_of else None
        # settle re-checks status and expiry at the moment it writes, by the store's clock:
        # a request that expires between the check above and the write stays undecided
        if not self.store.approvals.settle(aid, approve=approve, actor=who.name,
                                           comment=comment, detail=detail,
                                           effect=_gated_change(who.name)):
            won = self.store.approvals.get(aid)  # lost a race, or expired in the meantime
            if won.status == PENDING:
                self.store.approvals.expire(aid)
                self._refuse(ap, who, "expired", Conflict(
                    messages.APPROVAL_EXPIRED.format(id=aid)))
            self._refuse(ap, who, "already decided", Conflict(messages.APPROVAL_DECIDED.format(
                id=aid, status=won.status, who=won.decided_by or "expiry")))
        ap = self.store.approvals.get(aid)
        if approve and ap.gate == "action":
            self.run_action(ap)
        return self.store.approvals.get(aid)

    def run_action(self, ap: Approval):
        """Run an approved action (payload: function, input) as its requester, once: the
        idempotency key is the approval's, so a retry or the scheduler's sweep of approved
        actions (run_approved_actions) finds the same invocation."""
        p = ap.payload or {}
        invoke = self._invoke
        if invoke is None:
            from fleet.runtime import Client

            invoke = self._invoke = Client(self.settings).invoke
        return invoke(p["function"], p.get("input") or {}, caller=ap.requested_by,
                      via="approval", own_key=action_key(ap.id), wait=False)

    def run_approved_actions(self, within_s: float = 86_400) -> int:
        """Start the approved actions whose run has not started (the process that approved
        them died first); returns how many were looked at."""
        since = self.clock() - within_s
        done = 0
        for ap in self.store.approvals.list(status="approved", limit=200):
            if ap.gate != "action" or (ap.decided_at or 0) < since:
                continue
            if self._action_run(ap.id) is None:
                self.run_action(ap)
            done += 1
        return done

    # -- external gates -----------------------------------------------------------------------

    def external_gate(self, who: Identity, *, target: str, key: str, gate: str,
                      summary: str) -> Approval:
        """The approval behind a gate that an outside controller polls (Flagger's confirm
        webhooks): the request for `key` (e.g. a revision's checksum), opened in `who`'s
        name on the first call. The same key keeps its request; a new key, or an expired
        request, asks again."""
        who.require("invoke")
        for ap in self.store.approvals.list(target=target, limit=100):
            if (ap.payload or {}).get("gate_key") == key and ap.status != "expired":
                return ap
        cfg = self.settings.approvals
        return self.store.approvals.create(gate=gate, target=target, summary=summary,
                                           requested_by=who.name, role=cfg.role,
                                           ttl_s=cfg.ttl_s, payload={"gate_key": key})

    # -- aliases ----------------------------------------------------------------------------

    def move_alias(self, who: Identity, *, model: str, alias: str, version: int | None,
                   reason: str) -> dict[str, Any]:
        """Move `alias`, or open an approval request when it is protected. Returns
        {"moved": True, "aliases": ...} or {"moved": False, "approval": Approval}. The
        admin, or a role that grants `alias` on the model (fleet.config.roles)."""
        who.require("invoke")
        permissions.require(self.settings, who, "alias", f"model:{model}")
        cfg = self.settings.approvals
        if alias in cfg.protected_aliases:
            ap = self.store.models.request_alias_move(
                model=model, alias=alias, version=version, actor=who.name, reason=reason,
                role=cfg.role, ttl_s=cfg.ttl_s)
            return {"moved": False, "approval": ap}
        self.store.models.move_alias(model=model, alias=alias, version=version, actor=who.name,
                                     reason=reason)
        return {"moved": True, "aliases": self.store.models.aliases(model)}


def action_key(aid: str) -> str:
    """The key of an approved action's one invocation: Fleet's own (no caller's key can
    take it first and stop the action from running)."""
    return f"approval:{aid}"


def _gated_change(decider: str):
    """What an approval allows, made in the approval's own transaction (both or neither):
    an alias gate moves the alias, as its requester, with the approval in the reason. An
    action gate runs after the commit (Approvals.run_action), as an invocation."""

    def change(conn, ap: Approval) -> None:
        if ap.gate == "alias" and ap.payload:
            p = ap.payload
            apply_alias_move(conn, model=p["model"], alias=p["alias"], version=p["version"],
                             actor=ap.requested_by,
                             reason=f"{p['reason']} (approved by {decider}, {ap.id})")

    return change
