"""serving.apps and serving.restore: what a wrong entry in fleet.yaml tells the operator,
and what an import path may name."""

from pathlib import Path

import pytest

from fleet.config import clear_cache, load_settings
from fleet.errors import DefinitionError
from fleet.serving.apps import build, resolve

FIXTURES = str(Path(__file__).parents[1] / "fixtures")


def settings_with(tmp_path, serving: str):
    clear_cache()
    (tmp_path / "fleet.yaml").write_text(f"function_paths: ['{FIXTURES}']\nserving: {serving}\n")
    return load_settings(tmp_path)


def test_the_default_restores_model_versions_and_runs_the_llm_and_rag_apps(tmp_path):
    s = settings_with(tmp_path, "{}")
    assert s.serving.restore == ("serve_apps.model:restore",)
    assert [(a.name, a.route_prefix) for a in s.serving.apps] == [("llm", "/llm"),
                                                                  ("rag", "/rag")]
    assert settings_with(tmp_path, "{apps: []}").serving.apps == ()


def test_the_rag_app_finds_the_llm_app_it_calls_or_says_it_is_missing(tmp_path, monkeypatch):
    from fleet.serving.apps import openai_url

    monkeypatch.setenv("FLEET_HOME", str(tmp_path))  # where a builder reads its settings
    s = settings_with(tmp_path, "{serve_port: 8123}")
    assert openai_url(s, "llm") == ("http://127.0.0.1:8123/llm/v1", "SmolLM2-135M-Instruct")
    s = settings_with(tmp_path, "{apps: [{name: rag, import_path: 'serve_apps.rag:build'}]}")
    with pytest.raises(DefinitionError, match="No app named 'llm' in serving.apps"):
        build(s.serving.apps[0], s)


@pytest.mark.parametrize("serving, names", [
    ("{apps: [{name: a, import_path: 'not a path'}]}", "serving.apps.0.import_path"),
    ("{apps: [{name: a, import_path: 'mod.only'}]}", "serving.apps.0.import_path"),
    ("{apps: [{name: Bad_Name, import_path: 'm:a'}]}", "serving.apps.0.name"),
    ("{apps: [{name: a, import_path: 'm:a', route_prefix: 'no-slash'}]}",
     "serving.apps.0.route_prefix"),
    ("{apps: [{name: a, import_path: 'm:a', colour: red}]}", "serving.apps.0.colour"),
    ("{restore: ['serve_apps.model']}", "serving.restore"),
])
def test_a_bad_entry_names_its_field(tmp_path, serving, names):
    with pytest.raises(DefinitionError) as err:
        settings_with(tmp_path, serving)
    assert names in str(err.value)


def test_two_apps_may_not_share_a_name_or_a_route(tmp_path):
    with pytest.raises(DefinitionError, match="share the name 'a'"):
        settings_with(tmp_path, "{apps: [{name: a, import_path: 'm:x'}, "
                                "{name: a, import_path: 'm:y'}]}")
    with pytest.raises(DefinitionError, match="share the route_prefix '/x'"):
        settings_with(tmp_path, "{apps: [{name: a, import_path: 'm:x', route_prefix: /x}, "
                                "{name: b, import_path: 'm:y', route_prefix: /x}]}")


def test_a_builder_gets_the_configured_args(tmp_path):
    from ray.serve import Application

    s = settings_with(tmp_path, "{apps: [{name: e, import_path: 'fleet_serve_echo:build', "
                                "args: {greeting: hey}}]}")
    app = build(s.serving.apps[0], s)
    assert isinstance(app, Application)
    assert app._bound_deployment.init_args == ("hey",)


def test_a_bound_app_refuses_args_it_would_ignore(tmp_path):
    s = settings_with(tmp_path, "{apps: [{name: e, import_path: 'fleet_serve_echo:app', "
                                "args: {greeting: hey}}]}")
    with pytest.raises(DefinitionError, match="`args` would be ignored"):
        build(s.serving.apps[0], s)


def test_a_path_that_names_no_app_says_what_it_found(tmp_path):
    s = settings_with(tmp_path, "{apps: [{name: e, import_path: 'fleet_serve_echo:not_an_app'}]}")
    with pytest.raises(DefinitionError, match="of type int, not a Serve application"):
        build(s.serving.apps[0], s)


def test_a_missing_module_or_attribute_is_named(tmp_path):
    with pytest.raises(DefinitionError, match="No module named 'no_such_mod_xyz'"):
        resolve("no_such_mod_xyz:app")
    with pytest.raises(DefinitionError, match="has no 'nothing'"):
        resolve("fleet_serve_echo:nothing", (FIXTURES,))
