"""Schema versions 3 to 7: endpoints, rollouts, approvals, the outbox, bandit arms, deployments,
tokens, feedback and the shared key-value table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from fleet.store.schema.base import metadata

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
