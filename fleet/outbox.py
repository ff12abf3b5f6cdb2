"""The outbox, as a service: reading events and deliveries (the read scope), the delivery
protocol a notifier speaks (claim, delivered, failed, release: the notify scope) and
replaying dead letters (admin, audited). The store keeps the rows and does each step in
one transaction (fleet.store.outbox); the bot's notifier speaks to this through the
gateway."""

from __future__ import annotations

from typing import Any

from fleet import messages
from fleet.config import Settings
from fleet.errors import Conflict, FieldProblem, InvalidInput
from fleet.identity import Identity
from fleet.store import Store
from fleet.store.outbox import STATES


def check_state(state: str | None, field: str = "state") -> None:
    if state is not None and state not in STATES:
        states = ", ".join(STATES)
        raise InvalidInput(messages.OUTBOX_STATE.format(state=state, states=states), [
            FieldProblem(field, "unknown", f"Use one of {states}.")])


class Outbox:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def recent(self, who: Identity, *, after_id: int = 0, limit: int = 100,
               subject: str | None = None) -> list[dict[str, Any]]:
        who.require("read")
        return self.store.outbox.recent(after_id=after_id, limit=limit, subject=subject)

    def deliveries(self, who: Identity, *, consumer: str | None = None,
                   state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        who.require("read")
        check_state(state)
        return self.store.outbox.deliveries(consumer=consumer, state=state, limit=limit)

    def pending(self, who: Identity, consumer: str = "slack", *, limit: int = 100
                ) -> list[dict[str, Any]]:
        who.require("read")
        return self.store.outbox.pending(consumer, limit=limit)

    def claim(self, who: Identity, consumer: str, holder: str, *, limit: int = 50,
              lease_s: float = 30.0) -> list[dict[str, Any]]:
        who.require("notify")
        return self.store.outbox.claim(consumer, holder, limit=limit, lease_s=lease_s)

    def delivered(self, who: Identity, consumer: str, event_id: int, holder: str, *,
                  result: Any = None, thread: Any = None) -> None:
        who.require("notify")
        if not self.store.outbox.delivered(consumer, event_id, holder, result=result,
                                           thread=thread):
            raise self._not_held(consumer, event_id)

    def failed(self, who: Identity, consumer: str, event_id: int, holder: str, *,
               error: str, retry_after_s: float | None = None) -> dict[str, Any]:
        who.require("notify")
        out = self.store.outbox.failed(consumer, event_id, holder, error=error,
                                       retry_after_s=retry_after_s,
                                       policy=self.settings.outbox)
        if out is None:
            raise self._not_held(consumer, event_id)
        return out

    def release(self, who: Identity, consumer: str, event_ids: list[int], holder: str) -> int:
        who.require("notify")
        return self.store.outbox.release(consumer, event_ids, holder)

    def register(self, who: Identity, consumer: str) -> bool:
        """Deliver events from now on to `consumer` too (a bot console session's own
        stream); False if it already was."""
        who.require("admin")
        return self.store.outbox.register(consumer)

    def unregister(self, who: Identity, consumer: str) -> None:
        """Stop delivering to `consumer` and drop its deliveries."""
        who.require("admin")
        self.store.outbox.unregister(consumer)

    def replay(self, who: Identity, consumer: str, event_ids: list[int] | None = None) -> int:
        """Dead letters back to pending, attempts reset (audited as `who`)."""
        who.require("admin")
        return self.store.outbox.replay(consumer=consumer, actor=who.name, event_ids=event_ids)

    @staticmethod
    def _not_held(consumer: str, event_id: int) -> Conflict:
        return Conflict(messages.OUTBOX_NOT_HELD.format(consumer=consumer, event=event_id))


__all__ = ["STATES", "Outbox", "check_state"]
