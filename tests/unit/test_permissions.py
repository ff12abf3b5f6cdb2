"""Roles grant verbs on resources (fleet.config.roles, fleet.permissions): the defaults a
team starts with, a team's own role in fleet.yaml, and refusals that say which role would
allow the action."""

from __future__ import annotations

import pytest

from fleet.config import load_settings
from fleet.errors import DefinitionError, Forbidden
from fleet.identity import Identity, expand
from fleet.permissions import allows, granting, require


def person(*roles, scopes=("invoke",)) -> Identity:
    return Identity("dee", expand(scopes), frozenset(roles))


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "fleet.yaml").write_text("""
roles:
  churn-team:
    - {verbs: [deploy, rollout], resources: ["endpoint:churn"]}
    - {verbs: [write], resources: ["kb:churn-*"]}
""")
    return load_settings(tmp_path)


def test_the_default_roles(settings):
    assert not allows(settings, person(), "deploy", "endpoint:churn")
    assert allows(settings, person("deployer"), "rollout", "endpoint:anything")
    assert not allows(settings, person("deployer"), "write", "kb:docs")
    assert allows(settings, person("kb-writer"), "write", "kb:docs")
    assert allows(settings, person("operator"), "cancel", "function:train")
    assert allows(settings, person("operator"), "schedule", "function:train")
    assert not allows(settings, person("deployer"), "schedule", "function:train")
    assert allows(settings, person("releaser"), "alias", "model:churn")
    assert not allows(settings, person("deployer"), "alias", "model:churn")
    assert allows(settings, person(scopes=("admin",)), "deploy", "endpoint:churn")


def test_a_teams_own_role_reaches_only_its_resources(settings):
    team = person("churn-team")
    assert allows(settings, team, "deploy", "endpoint:churn")
    assert not allows(settings, team, "deploy", "endpoint:churn2")
    assert allows(settings, team, "write", "kb:churn-notes")
    assert not allows(settings, team, "retrain", "endpoint:churn")
    assert granting(settings, "deploy", "endpoint:churn") == ["churn-team", "deployer"]


def test_a_refusal_names_who_what_and_the_roles_that_allow_it(settings):
    with pytest.raises(Forbidden) as err:
        require(settings, person("approver"), "rollout", "endpoint:fraud")
    text = str(err.value)
    assert "'dee' may not rollout endpoint:fraud" in text and "'deployer'" in text
    assert "churn-team" not in text


def test_a_role_with_a_bad_resource_is_refused_at_load(tmp_path):
    (tmp_path / "fleet.yaml").write_text(
        "roles:\n  bad:\n    - {verbs: [deploy], resources: ['churn']}\n")
    with pytest.raises(DefinitionError, match="roles"):
        load_settings(tmp_path)
    (tmp_path / "fleet.yaml").write_text(
        "roles:\n  bad:\n    - {verbs: [destroy], resources: ['endpoint:*']}\n")
    with pytest.raises(DefinitionError, match="roles"):
        load_settings(tmp_path)


def test_a_function_acts_as_its_caller_and_the_service_checks_the_role(tmp_path):
    """Inside a built-in function the services see the invocation's caller: a person's own
    roles, or none for a caller with no person record (a schedule's slot). The role check
    is in the service, so a path that skips the function's early check (a scheduled or an
    approved invocation) is still refused, naming the role."""
    from fleet.runtime import context
    from fleet.services import in_invocation
    from fleet.serving.routing import Arm

    (tmp_path / "fleet.yaml").write_text(
        f"store_url: sqlite:///{tmp_path}/f.db\n"
        "tokens:\n  - {name: dee, token: dee-token-0123456789, scopes: [invoke],"
        " roles: [deployer]}\n")
    settings = load_settings(tmp_path)
    arm = Arm(model="churn", version=1, app="churn-v1")
    token = context.bind(context.InvocationContext("inv-1", "schedule:nightly", "schedule"))
    try:
        svc, who = in_invocation(settings)
        assert who.name == "schedule:nightly" and "invoke" in who.scopes and not who.roles
        with pytest.raises(Forbidden, match="'deployer'"):
            svc.endpoints.route_first(who, "churn", arm)
    finally:
        context.unbind(token)
    token = context.bind(context.InvocationContext("inv-2", "dee", "http"))
    try:
        svc, who = in_invocation(settings)
        assert who.roles == {"deployer"}
        assert svc.endpoints.route_first(who, "churn", arm)[:2] == (True, 100.0)
        assert svc.endpoints.get(who, "churn").routing["versions"][0]["app"] == "churn-v1"
    finally:
        context.unbind(token)
