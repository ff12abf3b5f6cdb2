"""Block Kit, built by small functions (never inline in handlers). Text comes from
fleet.messages; here it is only laid out."""

from __future__ import annotations

import time
from typing import Any

from fleet import messages

APPROVE, REJECT, REJECT_MODAL = "fleet_approve", "fleet_reject", "fleet_reject_reason"


def text(body: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}}]


def _confirm(title: str, body: str, yes: str) -> dict[str, Any]:
    return {"title": {"type": "plain_text", "text": title},
            "text": {"type": "mrkdwn", "text": body},
            "confirm": {"type": "plain_text", "text": yes},
            "deny": {"type": "plain_text", "text": "Cancel"}}


def approval(ap: dict[str, Any]) -> list[dict[str, Any]]:
    """A pending request with Approve and Reject, each behind a confirm dialog."""
    head = messages.BOT_APPROVAL.format(gate=ap["gate"], summary=ap["summary"],
                                        who=ap["requested_by"], role=ap["role"])
    return [*text(head), {"type": "actions", "block_id": f"approval:{ap['id']}", "elements": [
        {"type": "button", "action_id": APPROVE, "style": "primary", "value": ap["id"],
         "text": {"type": "plain_text", "text": "Approve"},
         "confirm": _confirm("Approve?", ap["summary"], "Approve")},
        {"type": "button", "action_id": REJECT, "style": "danger", "value": ap["id"],
         "text": {"type": "plain_text", "text": "Reject"},
         "confirm": _confirm("Reject?", ap["summary"], "Reject")},
    ]}]


def decided(ap: dict[str, Any]) -> list[dict[str, Any]]:
    """The same request once decided: who and when, and no buttons."""
    when = time.strftime("%H:%M:%S UTC", time.gmtime(ap.get("decided_at") or time.time()))
    return text(messages.BOT_DECIDED.format(status=ap["status"], who=ap.get("decided_by"),
                                            when=when, summary=ap["summary"]))


def reject_modal(approval_id: str, channel: str, ts: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": REJECT_MODAL,
            "private_metadata": f"{approval_id}|{channel}|{ts}",
            "title": {"type": "plain_text", "text": "Reject"},
            "submit": {"type": "plain_text", "text": "Reject"},
            "blocks": [{"type": "input", "block_id": "reason", "label": {
                "type": "plain_text", "text": "Why?"}, "element": {
                "type": "plain_text_input", "action_id": "text", "multiline": True}}]}


def as_text(blocks: list[dict[str, Any]]) -> str:
    """Blocks rendered as plain text (notifications' fallback, and `fleet bot console`)."""
    out = []
    for b in blocks:
        if b.get("type") == "section":
            out.append(b["text"]["text"])
        elif b.get("type") == "actions":
            out.append("  ".join(f"[{e['text']['text']}: {e['action_id']} {e.get('value', '')}]"
                                 for e in b["elements"]))
    return "\n".join(out)
