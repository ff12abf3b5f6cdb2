"""Block Kit, built by small functions (never inline in handlers). Text comes from
fleet.messages; here it is only laid out."""

from __future__ import annotations

import time
from typing import Any

from bot import messages as bot_messages

APPROVE, REJECT, REJECT_MODAL = "fleet_approve", "fleet_reject", "fleet_reject_reason"
DRIFT_RETRAIN, DRIFT_ROLLBACK, DRIFT_SNOOZE = (
    "fleet_drift_retrain", "fleet_drift_rollback", "fleet_drift_snooze")


def text(body: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}}]


def _confirm(title: str, body: str, yes: str) -> dict[str, Any]:
    return {"title": {"type": "plain_text", "text": title},
            "text": {"type": "mrkdwn", "text": body},
            "confirm": {"type": "plain_text", "text": yes},
            "deny": {"type": "plain_text", "text": "Cancel"}}


def approval(ap: dict[str, Any]) -> list[dict[str, Any]]:
    """A pending request with Approve and Reject, each behind a confirm dialog."""
    head = bot_messages.BOT_APPROVAL.format(gate=ap["gate"], summary=ap["summary"],
                                        who=ap["requested_by"], role=ap["role"])
    return [*text(head), {"type": "actions", "block_id": f"approval:{ap['id']}", "elements": [
        {"type": "button", "action_id": APPROVE, "style": "primary", "value": ap["id"],
         "text": {"type": "plain_text", "text": "Approve"},
         "confirm": _confirm("Approve?", ap["summary"], "Approve")},
        {"type": "button", "action_id": REJECT, "style": "danger", "value": ap["id"],
         "text": {"type": "plain_text", "text": "Reject"},
         "confirm": _confirm("Reject?", ap["summary"], "Reject")},
    ]}]


def drift_alert(r: dict[str, Any], snooze_hours: float) -> list[dict[str, Any]]:
    """A drifted report: the drifted columns' figures, and Retrain, Roll back and Snooze
    (retrain and roll back each open an approval; nothing happens on one click)."""
    version = f"{r['model']}:{r['version']}" if r.get("model") else "-"
    perf = (r.get("detail") or {}).get("performance")
    head = (bot_messages.BOT_DRIFT_ALERT if r["drifted"] or not perf
            else bot_messages.BOT_DEGRADED_ALERT)
    lines = [head.format(
        endpoint=r["endpoint"], version=version, drifted=len(r["drifted_columns"]),
        total=len(r["columns"]), rows=r["current_rows"], reference=r["reference_rows"],
        id=r["id"])]
    lines += [bot_messages.BOT_DRIFT_COLUMN.format(**c) for c in r["columns"] if c["drifted"]][:10]
    if perf:
        lines.append(performance_line(perf))
    return [*text("\n".join(lines)),
            endpoint_actions(r["endpoint"], f"drift:{r['id']}", snooze_hours)]


def endpoint_actions(ep: str, block_id: str, snooze_hours: float | None) -> dict[str, Any]:
    """Retrain and Roll back (each opens an approval), and Snooze for Fleet's own drift
    alerts (Alertmanager's alerts are silenced in Alertmanager)."""
    elements = [
        {"type": "button", "action_id": DRIFT_RETRAIN, "style": "primary", "value": ep,
         "text": {"type": "plain_text", "text": "Retrain"},
         "confirm": _confirm("Retrain?", f"Ask to retrain the model behind `{ep}`; an "
                             "approver decides.", "Ask")},
        {"type": "button", "action_id": DRIFT_ROLLBACK, "style": "danger", "value": ep,
         "text": {"type": "plain_text", "text": "Roll back"},
         "confirm": _confirm("Roll back?", f"Ask to roll `{ep}` back to its previous "
                             "version; an approver decides.", "Ask")}]
    if snooze_hours is not None:
        elements.append({"type": "button", "action_id": DRIFT_SNOOZE,
                         "value": f"{ep}|{snooze_hours:g}",
                         "text": {"type": "plain_text", "text": f"Snooze {snooze_hours:g}h"}})
    return {"type": "actions", "block_id": block_id, "elements": elements}


def prometheus_alert(e: dict[str, Any]) -> list[dict[str, Any]]:
    """An Alertmanager alert: its summary and description; an endpoint's alert (error rate,
    latency, drift) with Retrain and Roll back; a resolution without buttons."""
    p = e["payload"]
    notes, labels = p.get("annotations") or {}, p.get("labels") or {}
    firing = e["kind"] == "alert.firing"
    head = (bot_messages.BOT_ALERT_FIRING if firing else bot_messages.BOT_ALERT_RESOLVED).format(
        name=p["alertname"], severity=labels.get("severity", "-"),
        summary=notes.get("summary") or p["alertname"])
    lines = [head] + ([notes["description"]] if firing and notes.get("description") else [])
    body = text("\n".join(lines))
    if firing and p.get("endpoint"):
        body.append(endpoint_actions(p["endpoint"], f"alert:{e['id']}", None))
    return body


def performance_line(p: dict[str, Any]) -> str:
    """Realised (from labels), registered and estimated figures of a version, one line."""
    def fig(x):
        return "-" if x is None else f"{x:.3f}"

    return bot_messages.BOT_PERFORMANCE.format(
        metric=p["metric"], realised=fig(p["realised"]), labelled=p["labelled"],
        registered=fig(p["registered"]), estimated=fig(p["estimated"]),
        verdict=bot_messages.BOT_PERFORMANCE_DEGRADED if p["degraded"] else "")


def decided(ap: dict[str, Any]) -> list[dict[str, Any]]:
    """The same request once decided: who, when and why (the reason typed in the reject
    dialog, or an approval's comment), and no buttons."""
    when = time.strftime("%H:%M:%S UTC", time.gmtime(ap.get("decided_at") or time.time()))
    line = bot_messages.BOT_DECIDED.format(status=ap["status"], who=ap.get("decided_by"),
                                           when=when, summary=ap["summary"])
    if ap.get("comment"):
        line += "\n" + bot_messages.BOT_DECIDED_WHY.format(comment=ap["comment"][:500])
    return text(line)


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


def _when(at: float | None) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(at or time.time()))


def _arm(a: dict | None) -> str:
    return f"{a['model']}:{a['version']}" if a else "nothing"


def ladder(steps: list, step: int, status: str) -> str:
    """5% ✓ → *25%* ◀ → 50% → 100%: the steps so far, the current one, the rest."""
    done_all = status in ("succeeded", "promoting")
    out = []
    for i, w in enumerate(steps):
        if done_all or i < step:
            out.append(f"~{w:g}%~ ✓")
        elif i == step:
            out.append(f"*{w:g}%* ◀")
        else:
            out.append(f"{w:g}%")
    return " → ".join(out) or "none"


def traffic(routing: dict | None) -> str:
    versions = (routing or {}).get("versions") or []
    parts = [f"{v['model']}:{v['version']} {float(v.get('weight', 0)):g}%" for v in versions]
    shadow = (routing or {}).get("shadow")
    if shadow:
        parts.append(f"shadow {_arm(shadow)}")
    return " · ".join(parts) or "no traffic yet"


def rollout(ro: dict[str, Any], routing: dict | None) -> list[dict[str, Any]]:
    """The rollout's one message, updated in place: where it stands, the ladder so far and
    the live traffic split (`routing` None: it has ended, and the endpoint's traffic is no
    longer its own)."""
    lines = [
        bot_messages.BOT_ROLLOUT_HEAD.format(id=ro["id"], strategy=ro["strategy"],
                                         endpoint=ro["endpoint"], baseline=_arm(ro["baseline"]),
                                         candidate=_arm(ro["candidate"]), status=ro["status"]),
        bot_messages.BOT_ROLLOUT_LADDER.format(ladder=ladder(ro["spec"].get("steps") or [],
                                                         ro["step"], ro["status"])),
    ]
    if routing is not None:
        lines.append(bot_messages.BOT_ROLLOUT_TRAFFIC.format(split=traffic(routing)))
    reason = (ro.get("state") or {}).get("reason")
    if reason:
        lines.append(bot_messages.BOT_ROLLOUT_REASON.format(reason=reason))
    lines.append(bot_messages.BOT_ROLLOUT_FOOT.format(who=ro["created_by"],
                                                  when=_when(ro.get("updated_at"))))
    return text("\n".join(lines))


def rollout_event(kind: str, payload: dict[str, Any]) -> str:
    """One line for the rollout's thread."""
    analysis = payload.get("analysis") or {}
    verdict = analysis.get("result", "")
    if analysis.get("success_rate") is not None:
        verdict += f" (success {analysis['success_rate']:.1%} over {analysis.get('requests')})"
    if analysis.get("reasons"):
        verdict += ": " + "; ".join(analysis["reasons"])
    fields = {"weight": f"{payload['weight']:g}" if payload.get("weight") is not None else "?",
              "verdict": verdict or "no verdict", "reason": payload.get("reason") or "",
              "gate": payload.get("gate") or "", "kind": kind, "to": payload.get("to") or ""}
    template = bot_messages.BOT_ROLLOUT_EVENTS.get(kind, bot_messages.BOT_ROLLOUT_EVENT_DEFAULT)
    return template.format(**fields)
