"""Ray job submission: `python -m fleet.jobs NAME key=value ...` inside a Ray job, and the
client side that `fleet invoke --via job` uses."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable

from fleet import messages
from fleet.cluster import ClusterInfo, use_token_auth
from fleet.config import Settings, fleet_env
from fleet.errors import FleetError, Unavailable

TERMINAL_JOB = {"SUCCEEDED", "FAILED", "STOPPED"}


def current_job_id() -> str | None:
    """The Ray job submission id of this driver (or the plain job id outside Jobs)."""
    raw = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    if raw:
        try:
            sub = json.loads(raw).get("metadata", {}).get("job_submission_id")
            if sub:
                return sub
        except ValueError:
            pass
    try:
        import ray

        if ray.is_initialized():
            return ray.get_runtime_context().get_job_id()
    except Exception:
        pass
    return None


def _job_client(settings: Settings):
    info = ClusterInfo.read(settings)
    if info is None:
        raise Unavailable(messages.NOT_UP)
    if info.token_auth:
        use_token_auth()
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(info.dashboard_url)


# Ray's answers while its job agent is starting or busy; anything else fails at once.
TRANSIENT_REFUSALS = ("No available agent", "please try again later", "Connection refused",
                      "Cannot connect", "Timeout", "503")
SUBMIT_RETRY_S = 60.0


def submit_with_retry(submit: Callable[[], str], *, retry_s: float = SUBMIT_RETRY_S,
                      sleep: Callable[[float], None] = time.sleep) -> str:
    """Call `submit` until Ray stops refusing for a transient reason (the job agent starts a
    few seconds after the head, and answers "No available agent" until then), backing off
    up to 2 s, for at most `retry_s`; then fail with a message that says what to check."""
    started = time.monotonic()
    delay = 0.25
    while True:
        try:
            return submit()
        except Exception as exc:  # Ray raises RuntimeError or ConnectionError here
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not any(t.lower() in str(exc).lower() for t in TRANSIENT_REFUSALS):
                raise
            waited = time.monotonic() - started
            if waited + delay > retry_s:
                raise Unavailable(messages.JOB_SUBMIT_REFUSED.format(
                    waited=waited, reason=reason[:200])) from None
            sleep(delay)
            delay = min(delay * 2, 2.0)


def submit(settings: Settings, name: str, args: list[str], *, token: str | None = None) -> str:
    """Submit `python -m fleet.jobs NAME args...` as a Ray job; returns its submission id.
    The job acts as the identity of `token` (FLEET_TOKEN in its environment), or as
    `ray-job` without one."""
    entry = shlex.join([sys.executable, "-m", "fleet.jobs", name, *args])
    env = dict(fleet_env(settings))
    if token:
        env["FLEET_TOKEN"] = token
    return submit_with_retry(lambda: _job_client(settings).submit_job(
        entrypoint=entry, runtime_env={"env_vars": env}))


def submit_as(settings: Settings, store, who, name: str, args: list[str], *,
              ttl_s: float) -> tuple[str, str]:
    """Submit a job that acts as `who`, through a job token minted for it (its scopes and
    roles, hashed in the store, expiring after `ttl_s`): no person's own token travels in
    the job's environment, where Ray's dashboard shows it. Returns (job id, token id);
    `release(store, token_id, who)` revokes the token once the job has ended."""
    token, record = store.tokens.add(name=who.name, scopes=sorted(who.scopes),
                                     roles=sorted(who.roles), actor=who.name, kind="job",
                                     ttl_s=ttl_s)
    try:
        return submit(settings, name, args, token=token), record.id
    except Exception:
        release(store, record.id, who)
        raise


def run_as(client, who, name: str, payload: dict,
           on_status: Callable[[str, str], None] = lambda job_id, status: None):
    """Invoke `name` as a Ray job acting as `who` and wait for it: the input checked first
    (an unknown name or a bad field fails here, not minutes later in a job), the job's own
    token revoked when it ends, so no person's token stays in Ray. Returns the invocation
    the job recorded; FleetError with the job's last log lines when it recorded none.
    `fleet invoke --via job` and `fleet demo` both run jobs through here."""
    from fleet.runtime.payloads import validate_payload

    spec = client.registry.get(name)
    validate_payload(spec, payload)
    args = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in payload.items()]
    job_id, token_id = submit_as(client.settings, client.store, who, name, args,
                                 ttl_s=spec.timeout_s + 600)
    try:
        status, logs = wait(client.settings, job_id,
                            on_status=lambda s: on_status(job_id, s))
    finally:
        release(client.store, token_id, who)
    found = [i for i in client.list(via="job", function=name, limit=200)
             if i.ray_job_id == job_id]
    if not found:
        raise FleetError(messages.JOB_FAILED.format(job_id=job_id, status=status, message=logs))
    return found[0]


def release(store, token_id: str, who) -> None:
    from fleet.errors import NotFound

    try:
        store.tokens.revoke(token_id, actor=who.name)
    except NotFound:  # expired or revoked already
        pass


def wait(settings: Settings, job_id: str, on_status: Callable[[str], None] | None = None,
         timeout_s: float | None = None) -> tuple[str, str]:
    """Poll until the job ends; returns (status, last log lines)."""
    client = _job_client(settings)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    last = None
    while True:
        status = str(client.get_job_status(job_id)).split(".")[-1]
        if status != last and on_status:
            on_status(status)
        last = status
        if status in TERMINAL_JOB:
            logs = client.get_job_logs(job_id)
            return status, "\n".join(logs.strip().splitlines()[-20:])
        if deadline is not None and time.monotonic() > deadline:
            return status, ""
        time.sleep(0.5)
