"""`decide_approval` and `move_alias`: approvals and alias moves as functions, so a schedule,
a Ray job or any entry point can do them, always as the invocation's own caller and always
through the one policy (fleet.approvals): the caller's scopes and roles come from Fleet's
identities, never from the payload."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from fleet import function
from fleet.names import ALIAS_NAME
from fleet.services import in_invocation


class DecideRequest(BaseModel):
    id: str = Field(description="The approval request, e.g. ap-1a2b3c4d5e.")
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=2000)


class DecideResult(BaseModel):
    approval: dict[str, Any]


@function(cpus=0.1, timeout_s=60, retries=0)
def decide_approval(req: DecideRequest) -> DecideResult:
    """Approve or reject an approval request as the caller (role needed; never one's own)."""
    svc, who = in_invocation()
    ap = svc.approvals.decide(who, req.id, approve=req.decision == "approve", comment=req.comment)
    return DecideResult(approval=ap.public())


class MoveAliasRequest(BaseModel):
    model: str
    alias: str = Field(pattern=ALIAS_NAME)
    version: int | None = Field(ge=1, le=2**53 - 1,
                                description="Version to point at; null removes the alias.")
    reason: str = Field(min_length=1)


class MoveAliasResult(BaseModel):
    moved: bool
    aliases: dict[str, int] | None = None
    approval: dict[str, Any] | None = None


@function(cpus=0.1, timeout_s=60, retries=0)
def move_alias(req: MoveAliasRequest) -> MoveAliasResult:
    """Move a model alias as the caller (the alias role); a protected one opens an approval."""
    svc, who = in_invocation()
    out = svc.approvals.move_alias(model=req.model, alias=req.alias, version=req.version,
                                   who=who, reason=req.reason)
    if out["moved"]:
        return MoveAliasResult(moved=True, aliases=out["aliases"])
    return MoveAliasResult(moved=False, approval=out["approval"].public())
