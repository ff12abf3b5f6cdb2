"""What a rollout is asked to do: strategy, steps, interval, thresholds, gates.

Validated when the rollout starts (a clear error naming the field), stored with the rollout,
and read back by the controller on every tick, so a restarted controller follows the same
plan.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Gate = Literal["start", "step", "promotion"]


class Thresholds(BaseModel):
    """An analysis passes when every threshold holds over the last interval."""

    model_config = ConfigDict(extra="forbid")
    success_rate_min: float = Field(99.0, ge=0, le=100, description="Percent of non-5xx.")
    p99_ms_max: float | None = Field(None, gt=0, description="p99 latency bound, ms.")
    min_requests: int = Field(10, ge=1, description="Fewer requests: the check waits.")
    agreement_min: float | None = Field(None, ge=0, le=100,
                                        description="Shadow only: percent that agree.")


class RolloutSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: Literal["canary", "shadow", "bandit"] = "canary"
    steps: list[float] = Field(default_factory=lambda: [5, 10, 25, 50, 100])
    interval_s: float = Field(60.0, ge=0.5, le=86_400)
    thresholds: Thresholds = Thresholds()
    max_failed_checks: int = Field(0, ge=0, le=100,
                                   description="Failed checks allowed before rollback.")
    max_inconclusive_checks: int = Field(
        3, ge=1, le=1000, description="Inconclusive checks in a row (an unreachable analysis "
                                      "source) that count as one failed check, as Flagger "
                                      "counts metric query errors.")
    gates: list[Gate] = Field(default_factory=list)
    approver_role: str = "approver"
    approval_ttl_s: float = Field(3600.0, gt=0)
    hold_s: float = Field(30.0, ge=0, description="Time at 100% before the old version goes.")
    drain_s: float = Field(3.0, ge=0, description="Wait after unrouting, before deleting.")
    analysis: Literal["router", "prometheus"] = "router"

    @field_validator("steps")
    @classmethod
    def _steps(cls, v: list[float]) -> list[float]:
        if not v:
            raise ValueError("give at least one step, e.g. [5, 10, 25, 50, 100]")
        if any(not 0 < s <= 100 for s in v):
            raise ValueError("each step is a percent in (0, 100]")
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("steps must increase, e.g. [5, 10, 25, 50, 100]")
        return v

    @model_validator(mode="after")
    def _canary_ends_at_100(self) -> RolloutSpec:
        if self.strategy == "canary" and self.steps[-1] != 100:
            self.steps.append(100.0)
        return self
