"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are UTC epoch seconds (floats): portable across both databases and free of time-zone
surprises. JSON columns hold payloads and results.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_version = Table(
    "fleet_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

invocations = Table(
    "invocations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("function", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("via", String(16), nullable=False),
    Column("caller", String(128), nullable=False),
    Column("idempotency_key", String(256), nullable=True),
    Column("ray_job_id", String(128), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("error_type", String(128), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("error_traceback", Text, nullable=True),  # operators only; never served
    Column("attempts", Integer, nullable=False, default=0),
    Column("timeout_s", Float, nullable=False),
    Column("retries", Integer, nullable=False),
    Column("cancel_requested_by", String(128), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("duration_s", Float, nullable=True),
    # What a long run says of itself while it runs (rows done, rows/s, ...); schema v4.
    Column("progress", JSON, nullable=True),
    # The resources the function declared when it was invoked (its cost is these times
    # the run time); schema v11.
    Column("cpus", Float, nullable=True),
    Column("gpus", Float, nullable=True),
    # The supervisor instance that runs it (its lease holder id); NULL: the primary's.
    # Its peers adopt it only once that instance's member lease has lapsed; schema v13.
    Column("owner", String(200), nullable=True),
    UniqueConstraint("idempotency_key", name="uq_invocations_idempotency_key"),
    Index("ix_invocations_function_created", "function", "created_at"),
    Index("ix_invocations_status", "status"),
    Index("ix_invocations_created", "created_at"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("function", String(64), nullable=False),
    Column("spec", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("origin", String(16), nullable=False),  # "code" (decorator) or "runtime"
    Column("enabled", Boolean, nullable=False, default=True),
    Column("last_slot", Float, nullable=True),
    # late slots run at most this many (null: scheduler.max_catchup); schema v9
    Column("max_catchup", Integer, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("detail", JSON, nullable=True),
    Index("ix_audit_target", "target"),
)

# -- schema version 2: run tracking and the model registry ---------------------------------

runs = Table(
    "runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("experiment", String(128), nullable=False),
    Column("function", String(64), nullable=False),
    Column("invocation_id", String(40), nullable=True),
    Column("status", String(16), nullable=False),  # running, finished, failed, stopped
    Column("params", JSON, nullable=False),
    Column("data_uri", Text, nullable=True),
    Column("data_fingerprint", String(80), nullable=True),
    Column("code_version", String(80), nullable=True),
    Column("checkpoint_uri", Text, nullable=True),
    Column("artifacts", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Index("ix_runs_experiment_created", "experiment", "created_at"),
)

run_metrics = Table(
    "run_metrics",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Float, nullable=False),
    Column("at", Float, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("run_id", String(40), nullable=True),
    Column("artifact_uri", Text, nullable=False),
    Column("flavor", String(64), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("lineage", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("evaluation", JSON, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    UniqueConstraint("run_id", name="uq_model_versions_run"),  # one version per run
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("reason", Text, nullable=False),
)

alias_history = Table(
    "alias_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(128), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_alias_history_model", "model", "alias"),
)

V2_TABLES = [runs, run_metrics, model_versions, model_aliases, alias_history]

# -- schema version 3: serving, rollouts, approvals, the outbox ----------------------------

endpoints = Table(
    "endpoints",
    metadata,
    Column("name", String(128), primary_key=True),
    # The routing table the router reads: versions with weights, shadow, strategy.
    Column("routing", JSON, nullable=False),
    Column("generation", Integer, nullable=False),  # +1 on every change (compare-and-set)
    Column("active_rollout", String(40), nullable=True),  # at most one rollout at a time
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("endpoint", String(128), nullable=False),
    Column("strategy", String(16), nullable=False),  # canary, shadow, bandit
    Column("status", String(24), nullable=False),
    Column("baseline", JSON, nullable=True),  # {"model": .., "version": .., "app": ..}
    Column("candidate", JSON, nullable=False),
    Column("spec", JSON, nullable=False),  # steps, interval, thresholds, gates, hold
    Column("step", Integer, nullable=False),  # index into spec.steps; -1 before the first
    Column("failed_checks", Integer, nullable=False),
    Column("state", JSON, nullable=False),  # analysis cursor, pending approval, reason
    Column("next_at", Float, nullable=False),  # when the controller next looks at it
    Column("revision", Integer, nullable=False),  # +1 per change: the compare-and-set key
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    # set once the versions it left behind are retired (or it left none): until then the
    # controller looks at it, however old it is (schema v6)
    Column("retired_at", Float, nullable=True),
    Index("ix_rollouts_endpoint", "endpoint", "created_at"),
    Index("ix_rollouts_status", "status"),
)

rollout_events = Table(
    "rollout_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", String(40), nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("from_status", String(24), nullable=True),
    Column("to_status", String(24), nullable=True),
    Column("step", Integer, nullable=True),
    Column("weight", Float, nullable=True),
    Column("detail", JSON, nullable=True),
    Column("actor", String(128), nullable=False),
    Index("ix_rollout_events_rollout", "rollout_id", "id"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("gate", String(32), nullable=False),  # start, step, promotion, alias
    Column("target", String(256), nullable=False),  # e.g. rollout:<id> or model:<name>
    Column("summary", Text, nullable=False),
    Column("payload", JSON, nullable=True),  # what approving does, e.g. the alias move
    Column("requested_by", String(128), nullable=False),
    Column("role", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pending, approved, rejected, expired
    Column("decided_by", String(128), nullable=True),
    Column("comment", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("decided_at", Float, nullable=True),
    Index("ix_approvals_status", "status"),
    Index("ix_approvals_target", "target"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("kind", String(48), nullable=False),  # rollout.step, approval.requested, ...
    Column("subject", String(256), nullable=False),  # rollout:<id>, approval:<id>
    Column("payload", JSON, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Column("delivered_by", String(128), nullable=True),
    Index("ix_outbox_pending", "delivered_at", "id"),
)

bandit_arms = Table(
    "bandit_arms",
    metadata,
    Column("endpoint", String(128), primary_key=True),
    Column("version", String(160), primary_key=True),  # "model:version"
    Column("pulls", Integer, nullable=False),
    Column("successes", Float, nullable=False),
    Column("failures", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("app", String(200), primary_key=True),  # the Serve application of one version
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("options", JSON, nullable=False),  # how it is served, to redeploy it as it was
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

V3_TABLES = [endpoints, rollouts, rollout_events, approvals, outbox, bandit_arms, deployments]

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(128), nullable=False),  # the identity the token acts as
    Column("sha256", String(64), nullable=False, unique=True),  # never the token itself
    Column("scopes", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("kind", String(16), nullable=False),  # person (fleet tokens add), job (ephemeral)
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Index("ix_tokens_name", "name"),
)

V5_TABLES = [tokens]

bandit_feedback = Table(
    "bandit_feedback",
    metadata,
    Column("request_id", String(200), primary_key=True),  # each answer is rewarded once
    Column("endpoint", String(128), nullable=False),
    Column("version", String(160), nullable=False),
    Column("reward", Float, nullable=False),
    Column("at", Float, nullable=False),
)

kv = Table(  # small installation-wide values every node must share (e.g. the router's key)
    "fleet_kv",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

V7_TABLES = [bandit_feedback, kv]

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
