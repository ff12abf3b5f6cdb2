"""Drift reports and drift alerts.

A report (one comparison of a reference with a window, per column: method, score,
threshold, verdict, PSI; and the version's performance, realised from labels and
estimated, in `detail`) is written in one transaction with its audit entry and, when it
drifted or its performance degraded, with the `drift.detected` outbox event that becomes
the Slack alert. Whether that event is written is decided in the same transaction from the
endpoint's alert row: no new alert while the endpoint is snoozed, or while an earlier alert
is still unanswered (the report is stored either way, and says why it raised no alert). So
two checks finishing at once raise one alert, and a crash between report and alert cannot
happen.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput, NotFound
from fleet.store import audit, outbox
from fleet.store.engine import Engines
from fleet.store.ids import find_row
from fleet.store.schema import drift_alerts as A
from fleet.store.schema import drift_columns as C
from fleet.store.schema import drift_reports as R

# what a report's alert did: sent; held back while snoozed, while the open alert is
# unanswered, or while the action it was answered with is still decided or run; none
SENT, SNOOZED, OPEN, ACTING, NONE = "sent", "snoozed", "open", "acting", "none"
EVENT = "drift.detected"
MAX_SNOOZE_H = 24 * 30
START_GRACE_S = 3600.0  # an approved action that has not started by then holds no alert


def new_report_id() -> str:
    return "dr-" + uuid.uuid4().hex[:10]


def subject(endpoint: str) -> str:
    """The outbox subject of an endpoint's drift alerts: one Slack thread per endpoint."""
    return f"drift:{endpoint}"


class DriftRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    # -- writing ------------------------------------------------------------------------

    def save(self, *, endpoint: str, model: str | None, version: int | None, kind: str,
             reference: dict, window: tuple[float | None, float | None], result: dict,
             plots: dict[str, str], actor: str, invocation_id: str | None = None,
             detail: dict | None = None, alert_payload: dict | None = None,
             report_id: str | None = None, performance: dict | None = None
             ) -> dict[str, Any]:
        """Store a report (result: fleet.drift.DriftResult.public(); performance:
        fleet.drift.performance.assess()); when it drifted or its performance degraded, and
        the endpoint is neither snoozed nor waiting on an earlier alert, write its alert
        event in the same transaction. Returns the stored report."""
        rid = report_id or new_report_id()
        now = time.time()
        drifted = bool(result["dataset_drift"])
        degraded = bool(performance and performance.get("degraded"))
        if performance is not None:
            detail = {**(detail or {}), "performance": performance}
        with self._e.write.begin() as conn:
            alert = NONE
            if (drifted or degraded) and endpoint:
                alert = self._alert_state(conn, endpoint, now)
            conn.execute(insert(R).values(
                id=rid, endpoint=endpoint, model=model, version=version, kind=kind,
                reference=reference, window_start=window[0], window_end=window[1],
                reference_rows=result["reference_rows"], current_rows=result["current_rows"],
                drift_share=result["drift_share"], drifted_share=result["drifted_share"],
                drifted=drifted, plots=plots, detail=detail, alert=alert,
                invocation_id=invocation_id, created_at=now, created_by=actor))
            if result["columns"]:
                conn.execute(insert(C), [
                    {"report_id": rid, "name": c["column"], "kind": c["kind"],
                     "method": c["method"], "score": _finite(c["score"]),
                     "threshold": c["threshold"], "drifted": bool(c["drifted"]),
                     "psi": _finite(c["psi"])} for c in result["columns"]])
            audit.record(conn, actor=actor, action=f"{kind}.report", target=f"drift:{rid}",
                         detail={"endpoint": endpoint, "drifted": drifted,
                                 "degraded": degraded, "alert": alert,
                                 "drifted_columns": result.get("drifted_columns", [])})
            if alert == SENT:
                self._open(conn, endpoint, rid, actor, now)
                outbox.emit(conn, kind=EVENT if kind == "drift" else f"{kind}.degraded",
                            subject=subject(endpoint),
                            payload={"report": rid, "endpoint": endpoint, "model": model,
                                     "version": version, "kind": kind,
                                     "drifted_columns": result.get("drifted_columns", []),
                                     "drifted_share": result["drifted_share"],
                                     "drifted": drifted, "degraded": degraded,
                                     "performance": performance,
                                     "plots": plots, **(alert_payload or {})})
        return self.get(rid)

    def _alert_state(self, conn, endpoint: str, now: float) -> str:
        row = conn.execute(select(A).where(A.c.endpoint == endpoint)).first()
        if row is not None and row.snoozed_until and row.snoozed_until > now:
            return SNOOZED
        if row is not None and row.open_report:
            return OPEN
        if row is not None and row.pending_action and _acting(conn, row.pending_action, now):
            return ACTING
        return SENT

    def _open(self, conn, endpoint: str, rid: str, actor: str, now: float) -> None:
        """Mark `rid` the endpoint's open alert."""
        _set_alert(conn, endpoint, open_report=rid, updated_at=now, updated_by=actor)

    def request_action(self, endpoint: str, *, action: str, actor: str,
                       approval: dict[str, Any]) -> str:
        """Answer the endpoint's open alert with an action (retrain, roll back) and open
        the approval that runs it, in one transaction; returns the approval's id."""
        from fleet.store.approvals import request_approval

        with self._e.write.begin() as conn:
            aid = request_approval(conn, requested_by=actor, **approval)
            row = conn.execute(select(A).where(A.c.endpoint == endpoint)).first()
            _set_alert(conn, endpoint, open_report=None, pending_action=aid,
                       updated_at=time.time(), updated_by=actor)
            audit.record(conn, actor=actor, action="drift.answer", target=subject(endpoint),
                         detail={"action": action, "approval": aid,
                                 "report": row.open_report if row is not None else None})
        return aid

    def snooze(self, endpoint: str, hours: float, *, actor: str) -> dict[str, Any]:
        """Hold the endpoint's alerts for `hours` (0 lifts a snooze); answers the open one."""
        if not 0 <= hours <= MAX_SNOOZE_H:
            raise InvalidInput(messages.DRIFT_BAD_SNOOZE.format(hours=hours), [FieldProblem(
                "hours", "out of range", f"Snooze for 0 to {MAX_SNOOZE_H} hours.")])
        now = time.time()
        until = now + hours * 3600 if hours else None
        with self._e.write.begin() as conn:
            was = conn.execute(select(A.c.snoozed_until).where(A.c.endpoint == endpoint)
                               ).scalar()
            _set_alert(conn, endpoint, snoozed_until=until, open_report=None, updated_at=now,
                       updated_by=actor)
            audit.record(conn, actor=actor, action="drift.snooze", target=subject(endpoint),
                         detail={"hours": hours, "until": until,
                                 "before": {"snoozed_until": was}})
        return self.alert(endpoint)

    # -- reading ------------------------------------------------------------------------

    def alert(self, endpoint: str) -> dict[str, Any]:
        with self._e.read.connect() as conn:
            row = conn.execute(select(A).where(A.c.endpoint == endpoint)).first()
        if row is None:
            return {"endpoint": endpoint, "open_report": None, "snoozed_until": None}
        return {k: getattr(row, k) for k in ("endpoint", "open_report", "snoozed_until",
                                             "updated_at", "updated_by")}

    def get(self, rid: str) -> dict[str, Any]:
        with self._e.read.connect() as conn:
            row = find_row(conn, R, R.c.id, rid, "drift report")
            if row is None:
                raise NotFound(messages.UNKNOWN_DRIFT_REPORT.format(id=rid))
            cols = conn.execute(select(C).where(C.c.report_id == row.id)
                                .order_by(C.c.drifted.desc(), C.c.name)).all()
        out = dict(row._mapping)
        out["columns"] = [{("column" if k == "name" else k): v
                           for k, v in c._mapping.items() if k != "report_id"} for c in cols]
        out["drifted_columns"] = [c["column"] for c in out["columns"] if c["drifted"]]
        return out

    def latest(self, endpoint: str, kind: str = "drift") -> dict[str, Any]:
        with self._e.read.connect() as conn:
            rid = conn.execute(select(R.c.id).where(R.c.endpoint == endpoint, R.c.kind == kind)
                               .order_by(R.c.created_at.desc()).limit(1)).scalar()
        if rid is None:
            raise NotFound(messages.NO_DRIFT_REPORT.format(endpoint=endpoint))
        return self.get(rid)

    def history(self, endpoint: str, *, limit: int = 50, kind: str = "drift"
                ) -> list[dict[str, Any]]:
        """The newest `limit` reports of an endpoint, oldest first, each with its scores."""
        with self._e.read.connect() as conn:
            reports = [dict(r._mapping) for r in conn.execute(
                select(R.c.id, R.c.created_at, R.c.model, R.c.version, R.c.drifted,
                       R.c.drifted_share, R.c.current_rows, R.c.alert, R.c.detail)
                .where(R.c.endpoint == endpoint, R.c.kind == kind)
                .order_by(R.c.created_at.desc()).limit(limit))][::-1]
            ids = [r["id"] for r in reports]
            scores: dict[str, dict] = {}
            if ids:
                for c in conn.execute(select(C.c.report_id, C.c.name, C.c.score,
                                             C.c.drifted).where(C.c.report_id.in_(ids))):
                    scores.setdefault(c.report_id, {})[c.name] = {
                        "score": c.score, "drifted": c.drifted}
        for r in reports:
            r["scores"] = scores.get(r["id"], {})
            r["performance"] = (r.pop("detail") or {}).get("performance")
        return reports

    def latest_scores(self) -> list[dict[str, Any]]:
        """Each endpoint's newest drift report's columns (for the Prometheus gauges)."""
        newest = _newest_per_endpoint()
        q = (select(R.c.endpoint, R.c.drifted_share, R.c.drifted.label("dataset_drift"),
                    C.c.name.label("column"), C.c.method,
                    C.c.score,
                    C.c.threshold, C.c.drifted)
             .join(newest, and_(R.c.endpoint == newest.c.endpoint,
                                R.c.created_at == newest.c.at))
             .join(C, C.c.report_id == R.c.id))
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


    def latest_performance(self) -> dict[str, dict[str, Any]]:
        """Each endpoint's newest report's performance section (for the gauges)."""
        newest = _newest_per_endpoint()
        q = select(R.c.endpoint, R.c.detail).join(newest, and_(
            R.c.endpoint == newest.c.endpoint, R.c.created_at == newest.c.at))
        with self._e.read.connect() as conn:
            return {r.endpoint: r.detail["performance"] for r in conn.execute(q)
                    if r.detail and r.detail.get("performance")}


def _acting(conn, approval_id: str, now: float) -> bool:
    """Whether the action an alert was answered with is still under way: its approval
    pending (and not expired), or approved and its invocation not finished yet."""
    from fleet.store.schema import approvals as AP
    from fleet.store.schema import invocations as I

    ap = conn.execute(select(AP.c.status, AP.c.expires_at, AP.c.decided_at)
                      .where(AP.c.id == approval_id)).first()
    if ap is None:
        return False
    if ap.status == "pending":
        return ap.expires_at > now
    if ap.status != "approved":
        return False
    inv = conn.execute(select(I.c.status).where(
        I.c.idempotency_key == f"approval:{approval_id}")).first()
    if inv is None:  # approved, its run not started yet; one that never starts stops holding
        return now - (ap.decided_at or 0) < START_GRACE_S
    return inv.status in ("queued", "running")


def _newest_per_endpoint():
    """(endpoint, at) of each endpoint's newest drift report: what the gauges show."""
    return (select(R.c.endpoint, func.max(R.c.created_at).label("at"))
            .where(R.c.kind == "drift", R.c.endpoint != "")
            .group_by(R.c.endpoint).subquery())


def _set_alert(conn, endpoint: str, **values) -> None:
    """Update the endpoint's alert row, or make it (the three writers of it share this)."""
    if conn.execute(select(A.c.endpoint).where(A.c.endpoint == endpoint)).first():
        conn.execute(update(A).where(A.c.endpoint == endpoint).values(**values))
    else:
        conn.execute(insert(A).values(endpoint=endpoint, **values))


def _finite(x: float) -> float:
    """Scores are finite by construction; a NaN would not survive JSON or PostgreSQL."""
    x = float(x)
    return x if x == x and abs(x) != float("inf") else -1.0
