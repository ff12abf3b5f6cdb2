"""Schema versions 1 and 2: invocations, schedules, the audit log; runs and the model registry."""

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
    UniqueConstraint,
)

from fleet.store.schema.base import metadata

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
    # As stored: whose key it is, then the key (fleet.names.scoped_key); schema v14.
    Column("idempotency_key", String(600), nullable=True),
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
