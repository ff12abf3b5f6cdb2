"""Invocation statuses and the record shape every entry point returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from fleet.names import unscoped_key


class Status(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CANCELLED})
ACTIVE = (Status.QUEUED, Status.RUNNING)

# The allowed moves; the store enforces them with compare-and-set updates.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    # queued -> timed_out: a timeout counts from the invocation, time spent waiting for
    # resources included, so an invocation that never started still ends.
    # queued -> succeeded|failed: a short run's outcome is recorded once, with the worker's
    # own start time, instead of a `running` write and then the outcome (fleet.runtime.worker).
    Status.QUEUED: frozenset({Status.RUNNING, Status.SUCCEEDED, Status.FAILED,
                              Status.TIMED_OUT, Status.CANCELLED}),
    Status.RUNNING: frozenset(
        {Status.RUNNING, Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CANCELLED}
    ),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.TIMED_OUT: frozenset(),
    Status.CANCELLED: frozenset(),
}


def sources_of(target: Status) -> tuple[str, ...]:
    """Statuses from which `target` may be reached."""
    return tuple(s.value for s, dests in TRANSITIONS.items() if target in dests)


ENTRY_POINTS = ("python", "http", "job", "cli", "slack", "schedule", "approval")


def iso_time(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Invocation:
    id: str
    function: str
    status: Status
    via: str
    caller: str
    idempotency_key: str | None
    ray_job_id: str | None
    payload: Any
    result: Any
    error_type: str | None
    error_message: str | None
    attempts: int
    timeout_s: float
    retries: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    duration_s: float | None
    progress: Any = None
    cpus: float | None = None
    gpus: float | None = None
    owner: str | None = None  # the supervisor instance running it (None: the primary)

    @property
    def usage(self) -> dict[str, float] | None:
        """Resource-seconds held: the declared CPUs and GPUs times the run time."""
        if self.duration_s is None or self.cpus is None:
            return None
        return {"cpus": self.cpus, "gpus": self.gpus or 0.0,
                "cpu_s": round(self.cpus * self.duration_s, 6),
                "gpu_s": round((self.gpus or 0.0) * self.duration_s, 6)}

    @classmethod
    def from_row(cls, row) -> Invocation:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m) -> Invocation:
        """From a stored row's mapping, or a new row's dict (columns it lacks are None);
        the idempotency key as its maker gave it (fleet.names.unscoped_key)."""
        return cls(**{k: m.get(k) for k in cls.__dataclass_fields__
                      if k not in ("status", "idempotency_key")},
                   status=Status(m["status"]), idempotency_key=unscoped_key(m["idempotency_key"]))

    @property
    def done(self) -> bool:
        return self.status.terminal

    def public(self) -> dict[str, Any]:
        """The one record shape that HTTP, the CLI, Python and jobs all show."""
        error = None
        if self.error_type or self.error_message:
            error = {"type": self.error_type, "message": self.error_message}
        return {
            "id": self.id,
            "function": self.function,
            "status": self.status.value,
            "via": self.via,
            "caller": self.caller,
            "idempotency_key": self.idempotency_key,
            "ray_job_id": self.ray_job_id,
            "attempts": self.attempts,
            "created_at": iso_time(self.created_at),
            "started_at": iso_time(self.started_at),
            "finished_at": iso_time(self.finished_at),
            "duration_s": self.duration_s,
            "progress": self.progress,
            "usage": self.usage,
            "input": self.payload,
            "result": self.result,
            "error": error,
        }
