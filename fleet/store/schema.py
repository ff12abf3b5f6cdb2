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
