"""Schema versions 8 and later: outbox delivery per consumer, drift reports and alerts, labels,
leases and replica usage."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from fleet.store.schema.base import metadata

# -- schema version 8: outbox delivery, per consumer ------------------------------------------

outbox_consumers = Table(  # who reads the outbox (slack now, webhooks later)
    "outbox_consumers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
)

outbox_deliveries = Table(
    "outbox_deliveries",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", Integer, primary_key=True),
    Column("subject", String(256), nullable=False),  # delivered in event order per subject
    Column("state", String(16), nullable=False),  # pending, claimed, delivered, dead
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("next_at", Float, nullable=False),  # not before (backoff, Retry-After)
    Column("holder", String(128), nullable=True),  # the notifier that claimed it
    Column("lease_until", Float, nullable=True),  # after this, another may claim it
    Column("delivered_at", Float, nullable=True),
    Column("result", JSON, nullable=True),  # e.g. the Slack message it became
    Index("ix_outbox_deliveries_state", "consumer", "state", "event_id"),
    Index("ix_outbox_deliveries_subject", "consumer", "subject", "event_id"),
)

outbox_threads = Table(  # a subject's own message (a rollout's), updated in place
    "outbox_threads",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("subject", String(256), primary_key=True),
    Column("ref", JSON, nullable=False),  # Slack: {"channel": .., "ts": ..}
    Column("updated_at", Float, nullable=False),
)

V8_TABLES = [outbox_consumers, outbox_deliveries, outbox_threads]

# -- schema version 9: drift reports and drift alerts -----------------------------------------

drift_reports = Table(
    "drift_reports",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("endpoint", String(128), nullable=False),  # "" for a comparison of two URIs
    Column("model", String(128), nullable=True),
    Column("version", Integer, nullable=True),
    Column("kind", String(16), nullable=False),  # drift, performance
    Column("reference", JSON, nullable=False),  # what was compared with what
    Column("window_start", Float, nullable=True),
    Column("window_end", Float, nullable=True),
    Column("reference_rows", Integer, nullable=False),
    Column("current_rows", Integer, nullable=False),
    Column("drift_share", Float, nullable=False),
    Column("drifted_share", Float, nullable=False),
    Column("drifted", Boolean, nullable=False),
    Column("plots", JSON, nullable=False),  # name -> artifact URI
    Column("detail", JSON, nullable=True),  # performance figures, estimates
    Column("alert", String(24), nullable=False),  # sent, snoozed, open, none
    Column("invocation_id", String(40), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Index("ix_drift_reports_endpoint", "endpoint", "created_at"),
)

drift_columns = Table(
    "drift_columns",
    metadata,
    Column("report_id", String(40), primary_key=True),
    Column("name", String(128), primary_key=True),  # the column compared
    Column("kind", String(16), nullable=False),  # numeric, categorical
    Column("method", String(24), nullable=False),
    Column("score", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("drifted", Boolean, nullable=False),
    Column("psi", Float, nullable=False),
)

drift_alerts = Table(  # per endpoint: one open alert at a time, and snoozes
    "drift_alerts",
    metadata,
    Column("endpoint", String(128), primary_key=True),
    Column("open_report", String(40), nullable=True),  # the alert nobody answered yet
    Column("snoozed_until", Float, nullable=True),
    Column("pending_action", String(40), nullable=True),  # v10: the answer's approval
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

V9_TABLES = [drift_reports, drift_columns, drift_alerts]

# -- schema version 10: labels (ground truth for logged predictions) --------------------------

labels = Table(  # one row per labelled instance of an answer; each is labelled once
    "labels",
    metadata,
    Column("request_id", String(200), primary_key=True),  # the answer's x-fleet-request-id
    Column("row", Integer, primary_key=True),  # the instance's index in that request
    Column("endpoint", String(128), nullable=False),
    Column("version", String(160), nullable=False),  # the routing key that answered
    Column("label", JSON, nullable=False),
    Column("predicted_at", Float, nullable=False),  # when the answer was given (signed)
    Column("at", Float, nullable=False),
    Index("ix_labels_version", "endpoint", "version", "predicted_at"),
)

V10_TABLES = [labels]

# -- schema version 12: leases (one owner of a duty per store, with a fencing token) ----------

leases = Table(  # e.g. "supervisor": the one cluster that sweeps this store's invocations
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("token", Integer, nullable=False),  # +1 each time another holder takes it
    Column("expires_at", Float, nullable=False),
    Column("acquired_at", Float, nullable=False),
)

V12_TABLES = [leases]

replica_usage = Table(  # replica-seconds each served version held, per hour
    "replica_usage",
    metadata,
    Column("app", String(200), primary_key=True),  # the version's Serve app (model-vN)
    Column("hour", Integer, primary_key=True),  # epoch seconds of the hour's start
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("replica_s", Float, nullable=False),
    Column("cpu_s", Float, nullable=False),  # replica-seconds times its declared CPUs
    Column("gpu_s", Float, nullable=False),
    Index("ix_replica_usage_hour", "hour"),
)

V12_TABLES.append(replica_usage)

# -- schema version 15: the audit log's seals ------------------------------------------------

audit_seals = Table(  # each seal chains the audit rows it covers onto the seal before it
    "audit_seals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("from_id", Integer, nullable=False),
    Column("to_id", Integer, nullable=False),
    Column("head", String(64), nullable=False),  # the chain's hash after its last row
    Column("rows", JSON, nullable=False),  # [[audit row id, chain hash after it], ...]
)

V15_TABLES = [audit_seals]
