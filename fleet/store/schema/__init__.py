"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are UTC epoch seconds (floats): portable across both databases and free of time-zone
surprises. JSON columns hold payloads and results.
"""

from __future__ import annotations

from fleet.store.schema.base import metadata  # noqa: F401
from fleet.store.schema.core import (  # noqa: F401
    V2_TABLES,
    alias_history,
    audit_log,
    invocations,
    model_aliases,
    model_versions,
    run_metrics,
    runs,
    schedules,
    schema_version,
)
from fleet.store.schema.operations import (  # noqa: F401
    V8_TABLES,
    V9_TABLES,
    V10_TABLES,
    V12_TABLES,
    V15_TABLES,
    audit_seals,
    drift_alerts,
    drift_columns,
    drift_reports,
    labels,
    leases,
    outbox_consumers,
    outbox_deliveries,
    outbox_threads,
    replica_usage,
)
from fleet.store.schema.serving import (  # noqa: F401
    V3_TABLES,
    V5_TABLES,
    V7_TABLES,
    approvals,
    bandit_arms,
    bandit_feedback,
    deployments,
    endpoints,
    kv,
    outbox,
    rollout_events,
    rollouts,
    tokens,
)
