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
