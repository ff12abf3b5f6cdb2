"""Fleet's settings: one frozen model, read from FLEET_HOME/fleet.yaml and FLEET_* variables.

Every process of a Fleet installation (CLI, gateway, supervisor actor, Ray workers, job drivers)
calls `load_settings()` and gets the same answer, because they all share FLEET_HOME: on one
machine the same directory, on many nodes the same fleet.yaml mounted at FLEET_HOME on each
(cluster/kuberay). Secrets (FLEET_STORE_URL, the AWS keys) come from each node's own
environment and never travel in a runtime_env (see PASSED_ON).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from fleet import messages
from fleet.config.drift import DriftConfig, DriftOptions
from fleet.config.roles import DEFAULT_ROLES, Grant
from fleet.config.sections import (
    CONFIG_FILE,
    IMPORT_PATH,
    SCOPES,
    ApprovalsConfig,
    ArtifactsConfig,
    BotConfig,
    ClusterConfig,
    EmbeddingConfig,
    GatewayConfig,
    LLMConfig,
    OutboxConfig,
    RagConfig,
    SchedulerConfig,
    Scope,
    ServeAppConfig,
    ServingConfig,
    TokenConfig,
    UsageConfig,
    bearer_from_env,
    chunks_fit,
    import_path,
    url_for_openai,
)
from fleet.errors import DefinitionError


class Settings(BaseModel):
    """All of Fleet's configuration. Frozen: change the file, not the object."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    home: Path
    store_url: SecretStr = SecretStr("")  # may hold a password: never printed
    function_modules: tuple[str, ...] = ("functions",)
    function_paths: tuple[str, ...] = ()
    tokens: tuple[TokenConfig, ...] = ()
    gateway: GatewayConfig = GatewayConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    cluster: ClusterConfig = ClusterConfig()
    artifacts: ArtifactsConfig = ArtifactsConfig()
    serving: ServingConfig = ServingConfig()
    approvals: ApprovalsConfig = ApprovalsConfig()
    # Roles a token may name, each granting verbs on resources (fleet.config.roles); they
    # add to DEFAULT_ROLES (deployer, kb-writer, operator).
    roles: dict[str, tuple[Grant, ...]] = {}
    bot: BotConfig = BotConfig()
    outbox: OutboxConfig = OutboxConfig()
    rag: RagConfig = RagConfig()
    llm: LLMConfig = LLMConfig()
    drift: DriftConfig = DriftConfig()
    usage: UsageConfig = UsageConfig()
    # Where requests may read and write data (paths, file:// or s3://bucket/prefix), besides
    # the artifact root. Empty: FLEET_HOME/data. FLEET_HOME's own files and ~/.ray are never
    # reachable, whatever is listed here (fleet.artifacts.access).
    data_roots: tuple[str, ...] = ()
    # Modules whose top-level callables a train request may name as its model factory,
    # besides those registered with @fleet.model_factory.
    model_factory_modules: tuple[str, ...] = ()

    @property
    def resolved_roles(self) -> dict[str, tuple[Grant, ...]]:
        return {**DEFAULT_ROLES, **self.roles}

    @property
    def resolved_store_url(self) -> str:
        return self.store_url.get_secret_value() or f"sqlite:///{self.home / 'fleet.db'}"

    @property
    def artifact_root(self) -> str:
        return self.artifacts.root or (self.home / "artifacts").as_uri()

    @property
    def resolved_data_roots(self) -> tuple[str, ...]:
        return self.data_roots or ((self.home / "data").as_uri(),)

    @property
    def model_cache(self) -> Path:
        return self.llm.cache_dir or self.home / "models"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE


def default_home() -> Path:
    return Path(os.environ.get("FLEET_HOME") or Path.home() / ".fleet").expanduser().resolve()


def _env_overrides() -> dict:
    out: dict = {}
    if v := os.environ.get("FLEET_STORE_URL"):
        out["store_url"] = v
    if v := os.environ.get("FLEET_FUNCTION_MODULES"):
        out["function_modules"] = tuple(m.strip() for m in v.split(",") if m.strip())
    if v := os.environ.get("FLEET_FUNCTION_PATHS"):
        out["function_paths"] = tuple(p for p in v.split(os.pathsep) if p)
    return out


# What an actor or job is told through its runtime_env: where the installation is, never a
# secret. Ray's dashboard shows every runtime_env to whoever can open it, so FLEET_STORE_URL
# (it may hold a password) and the AWS keys reach Ray's workers only through the environment
# of each node's raylet (`fleet up` starts every node with its own; KubeRay from a Secret).
PASSED_ON = ("FLEET_FUNCTION_MODULES", "FLEET_FUNCTION_PATHS", "AWS_ENDPOINT_URL_S3")


def load_settings(home: Path | None = None) -> Settings:
    """Read fleet.yaml under `home` (or FLEET_HOME), then apply FLEET_* overrides."""
    return _load(str(home or default_home()), _env_key())


def _env_key() -> tuple:
    names = ("FLEET_STORE_URL", "FLEET_FUNCTION_MODULES", "FLEET_FUNCTION_PATHS")
    return tuple(os.environ.get(n, "") for n in names)


@lru_cache(maxsize=8)
def _load(home: str, _env: tuple) -> Settings:
    path = Path(home) / CONFIG_FILE
    data: dict = {}
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise DefinitionError(messages.CONFIG_INVALID.format(reason=exc)) from None
        if not isinstance(data, dict):
            raise DefinitionError(messages.CONFIG_INVALID.format(reason="not a mapping"))
    data = {**data, **_env_overrides(), "home": Path(home)}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DefinitionError(
            messages.CONFIG_INVALID.format(reason=f"{where}: {first['msg']}")
        ) from None


def with_llm(settings: Settings, overrides: dict | None) -> Settings:
    """`settings` with some of `llm:` replaced (an app serving another model than the
    configured one); validated like fleet.yaml's own section."""
    if not overrides:
        return settings
    merged = {**settings.llm.model_dump(exclude_unset=True), **overrides}
    return settings.model_copy(update={"llm": LLMConfig.model_validate(merged)})


def clear_cache() -> None:
    """Forget cached settings (after `fleet up` writes a new fleet.yaml, and in tests)."""
    _load.cache_clear()


def fleet_env(settings: Settings) -> dict[str, str]:
    """The variables a Ray actor or job needs to find the same installation."""
    env = {"FLEET_HOME": str(settings.home)}
    for name in PASSED_ON:
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


__all__ = ["DEFAULT_ROLES", "ApprovalsConfig", "ArtifactsConfig", "BotConfig", "CONFIG_FILE",
           "Grant",
           "ClusterConfig", "DriftConfig", "DriftOptions", "EmbeddingConfig",
           "GatewayConfig", "IMPORT_PATH", "LLMConfig", "OutboxConfig", "PASSED_ON",
           "RagConfig", "SCOPES", "SchedulerConfig", "Scope", "ServeAppConfig",
           "ServingConfig", "Settings", "TokenConfig", "UsageConfig", "bearer_from_env",
           "chunks_fit", "clear_cache", "default_home", "fleet_env", "import_path",
           "load_settings", "url_for_openai", "with_llm"]
