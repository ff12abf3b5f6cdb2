"""Roles, as fleet.yaml's `roles:` writes them: each grants verbs on resources, the way a
Kubernetes Role grants verbs on resources, kept smaller. A token's `roles` name them; the
admin scope is granted everything. Fleet's checks (fleet.permissions) ask one question:
may this identity do VERB to RESOURCE?

    roles:
      deployer:                       # the defaults below, written out
        - {verbs: [deploy, rollout, retrain, snooze], resources: ["endpoint:*"]}
      kb-writer:
        - {verbs: [write], resources: ["kb:*"]}
      operator:
        - {verbs: [cancel, schedule], resources: ["function:*"]}
      releaser:
        - {verbs: [alias], resources: ["model:*"]}
      churn-team:                     # a team's own: only the churn endpoint and its KBs
        - {verbs: [deploy, rollout], resources: ["endpoint:churn"]}
        - {verbs: [write], resources: ["kb:churn-*"]}

Resources are `endpoint:NAME`, `model:NAME`, `kb:NAME` and `function:NAME`; `*` matches any run of
characters. Roles written in fleet.yaml add to the defaults (a role of the same name
replaces the default one)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What a role can grant, and on which kind of resource each verb acts:
#   deploy   endpoint  put a model version behind an endpoint (the `deploy` function)
#   rollout  endpoint  start, step, promote, pause or abort a rollout (the `rollout` function;
#                      `status` needs no role), and ask for a drift roll-back
#   retrain  endpoint  ask for a drift retrain
#   snooze   endpoint  hold an endpoint's drift alerts
#   write    kb        ingest documents into a knowledge base (`rag_ingest`)
#   cancel   function  cancel someone else's invocation of the function
#   schedule function  add a schedule that runs the function, or remove one
#   alias    model     move one of the model's aliases (a protected alias: ask to, and an
#                      approver decides)
Verb = Literal["deploy", "rollout", "retrain", "snooze", "write", "cancel", "alias",
               "schedule"]
VERBS: tuple[str, ...] = ("deploy", "rollout", "retrain", "snooze", "write", "cancel", "alias",
                          "schedule")
RESOURCE = r"^(endpoint|model|kb|function):[A-Za-z0-9_.*-]{1,128}$"


class Grant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    verbs: tuple[Verb, ...] = Field(min_length=1)
    resources: tuple[str, ...] = Field(min_length=1)

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for r in value:
            if not re.match(RESOURCE, r):
                raise ValueError(f"resource '{r}' is not endpoint:NAME, model:NAME, kb:NAME "
                                 f"or function:NAME ('*' matches any characters)")
        return value


DEFAULT_ROLES: dict[str, tuple[Grant, ...]] = {
    "deployer": (Grant(verbs=("deploy", "rollout", "retrain", "snooze"),
                       resources=("endpoint:*",)),),
    "kb-writer": (Grant(verbs=("write",), resources=("kb:*",)),),
    "operator": (Grant(verbs=("cancel", "schedule"), resources=("function:*",)),),
    "releaser": (Grant(verbs=("alias",), resources=("model:*",)),),
}


__all__ = ["DEFAULT_ROLES", "VERBS", "Grant", "Verb"]
