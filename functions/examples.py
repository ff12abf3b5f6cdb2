"""Small functions for first steps, the demo and benchmarks."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from fleet import function


class HelloRequest(BaseModel):
    name: str = Field(default="world", max_length=200)


class HelloResult(BaseModel):
    greeting: str


@function(cpus=0.1, timeout_s=30, retries=0)
def hello(req: HelloRequest) -> HelloResult:
    """Say hello: the smallest possible Fleet function."""
    return HelloResult(greeting=f"Hello, {req.name}!")


class NoopRequest(BaseModel):
    pass


class NoopResult(BaseModel):
    ok: bool = True


@function(cpus=0.05, timeout_s=30, retries=0, warm=1, max_inputs=64)
def noop(req: NoopRequest) -> NoopResult:
    """Do nothing: the function the gateway benchmark invokes (on a warm runner)."""
    return NoopResult()


class SleepRequest(BaseModel):
    seconds: float = Field(default=1.0, ge=0, le=3600)


class SleepResult(BaseModel):
    slept_s: float


@function(cpus=0.1, timeout_s=3600, retries=0)
def sleep(req: SleepRequest) -> SleepResult:
    """Sleep for a while: handy to try async invocations and cancel."""
    start = time.monotonic()
    time.sleep(req.seconds)
    return SleepResult(slept_s=round(time.monotonic() - start, 3))
