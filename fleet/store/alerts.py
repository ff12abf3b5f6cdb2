"""Alerts from Prometheus' Alertmanager, into the outbox (and so into Slack).

Alertmanager posts a group of alerts to its webhook again and again (every group_interval
while anything changes, every repeat_interval otherwise). Each alert is one outbox event
when it starts firing and one when it resolves, never one per repeat: whether this
(fingerprint, startsAt, status) was seen is decided in the transaction that writes it.
Subject `alert:<fingerprint>`, so the bot posts an alert's resolution in its thread.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fleet.store import outbox
from fleet.store.engine import Engines
from fleet.store.schema import outbox as O

FIRING, RESOLVED = "alert.firing", "alert.resolved"


def subject(fingerprint: str) -> str:
    return f"alert:{fingerprint}"


class AlertRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def receive(self, alerts: list[dict[str, Any]], *, external_url: str | None = None
                ) -> list[int]:
        """Write one event per alert that started firing or resolved since last seen;
        returns the new events' ids (empty for a repeat)."""
        written = []
        with self._e.write.begin() as conn:
            for a in alerts:
                kind = RESOLVED if a["status"] == "resolved" else FIRING
                subj = subject(a["fingerprint"])
                seen = conn.execute(select(O.c.kind, O.c.payload).where(O.c.subject == subj)
                                    .order_by(O.c.id.desc()).limit(1)).first()
                if seen is not None and seen.kind == kind and \
                        seen.payload.get("starts_at") == a["startsAt"]:
                    continue
                labels, notes = a.get("labels", {}), a.get("annotations", {})
                written.append(outbox.emit(conn, kind=kind, subject=subj, payload={
                    "alertname": labels.get("alertname", "?"), "labels": labels,
                    "annotations": notes, "starts_at": a["startsAt"],
                    "ends_at": a.get("endsAt"), "generator_url": a.get("generatorURL"),
                    "external_url": external_url, "endpoint": labels.get("endpoint")}))
        return written
