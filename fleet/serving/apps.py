"""The Serve applications the Fleet server brings up at start, from configuration.

Two lists in `serving:` say what they are, so that the RAG and LLM apps and a user's own
plug in without an edit to the core (which imports none of them):
- `restore`: `module:function` hooks called with the settings, which bring back the apps
  the store says should run (serve_apps.model:restore redeploys the model versions that
  routing tables need: Serve's apps die with the cluster, the tables do not);
- `apps`: applications in the shape of Serve's config file (name, import_path,
  route_prefix, args). `import_path` names a bound application, or a builder that takes
  `args`, as `serve run module:builder key=value` does.

One app that fails to import or start is logged with the field that names it and does not
stop the others: the gateway and every other app still come up. Each app's state
(starting, running, failed with reason and fix) is recorded for `fleet up`, `fleet status`
and `fleet ask` (fleet.serving.app_states), and a failed app's route answers 503 with the
reason and fix (fleet.serving.unavailable).

A module that lives in one of `function_paths` (not an installed package) is pickled by
value: Serve's replicas unpickle a deployment's class in their own processes, which do not
have those directories on sys.path.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fleet import messages
from fleet.addresses import http_url
from fleet.config import ServeAppConfig, Settings
from fleet.errors import DefinitionError

log = logging.getLogger("fleet.serving.apps")


def resolve(import_path: str, function_paths: tuple[str, ...] = ()) -> Any:
    """The object `module:attribute` names; DefinitionError says which part is missing."""
    from fleet.registry import add_paths

    module_name, _, attr = import_path.partition(":")
    add_paths(function_paths)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise DefinitionError(messages.SERVE_APP_IMPORT.format(
            path=import_path, reason=f"{type(exc).__name__}: {exc}")) from None
    if not hasattr(module, attr):
        raise DefinitionError(messages.SERVE_APP_IMPORT.format(
            path=import_path, reason=f"module '{module_name}' has no '{attr}'"))
    _by_value_if_local(module, function_paths)
    return getattr(module, attr)


def _by_value_if_local(module, function_paths: tuple[str, ...]) -> None:
    origin = getattr(module, "__file__", None)
    if not origin or not function_paths:
        return
    here = Path(origin).resolve()
    if any(here.is_relative_to(Path(p).resolve()) for p in function_paths):
        from ray import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[module.__name__])


def build(cfg: ServeAppConfig, settings: Settings):
    """The Serve Application of one configured entry."""
    from ray.serve import Application

    target = resolve(cfg.import_path, settings.function_paths)
    if isinstance(target, Application):
        if cfg.args:
            raise DefinitionError(messages.SERVE_APP_ARGS_UNUSED.format(
                name=cfg.name, path=cfg.import_path))
        return target
    if callable(target):
        app = target(dict(cfg.args))
        if isinstance(app, Application):
            return app
    raise DefinitionError(messages.SERVE_APP_NOT_APP.format(
        name=cfg.name, path=cfg.import_path, kind=type(target).__name__))


def run_configured(settings: Settings,
                   run: Callable[..., Any] | None = None) -> tuple[list[str], dict[str, str]]:
    """Run each configured app; returns (names started, {name: why it failed}). Each app's
    state is kept in FLEET_HOME/run/apps.json (fleet.serving.app_states), and a failed
    app's route gets a stand-in answering 503 with the reason and fix
    (fleet.serving.unavailable)."""
    from ray import serve

    from fleet.serving import app_states
    from fleet.serving.app_states import FAILED, RUNNING, AppState

    run = run or serve.run
    started: list[str] = []
    failed: dict[str, str] = {}
    states = app_states.all_starting(settings)

    def save() -> None:
        app_states.write(settings, states)

    save()

    def fail(i: int, cfg: ServeAppConfig, exc: Exception, deployed: bool) -> None:
        if isinstance(exc, DefinitionError):
            reason, fix = app_states.cause(exc.args[0])
        elif deployed:
            reason, fix = app_states.deploy_failure(cfg.name, exc)
        else:
            reason, fix = app_states.cause(f"{type(exc).__name__}: {exc}")
        failed[cfg.name] = f"{reason} {fix}"
        log.error(messages.SERVE_APP_FAILED.format(index=i, name=cfg.name,
                                                   reason=failed[cfg.name]))
        states[cfg.name] = AppState(cfg.name, FAILED, cfg.route_prefix, reason, fix)
        save()
        if cfg.route_prefix:
            from fleet.serving.unavailable import stand_in

            try:
                stand_in(cfg.name, reason, fix, cfg.route_prefix, run)
            except Exception:  # the state is recorded; the route then answers Serve's 404
                log.exception("could not put a stand-in on %s's route", cfg.name)

    built = []  # every import first: a typo is reported before seconds of deploys
    for i, cfg in enumerate(settings.serving.apps):
        try:
            built.append((i, cfg, build(cfg, settings)))
        except Exception as exc:
            fail(i, cfg, exc, deployed=False)
    for i, cfg, app in built:
        try:
            run(app, name=cfg.name, route_prefix=cfg.route_prefix)
            started.append(cfg.name)
            states[cfg.name] = AppState(cfg.name, RUNNING, cfg.route_prefix)
            save()
        except Exception as exc:
            fail(i, cfg, exc, deployed=True)
    return started, failed


def app_url(settings: Settings, name: str) -> str:
    """The base URL of app `name` in serving.apps, through Serve's proxy on the head (or
    `serving.advertise_host`), which any node reaches (fleet.addresses)."""
    s = settings.serving
    for cfg in s.apps:
        if cfg.name == name:
            prefix = (cfg.route_prefix or "").rstrip("/")
            return f"{http_url(s.host, s.serve_port, s.advertise_host)}{prefix}"
    raise DefinitionError(messages.SERVE_APP_UNKNOWN.format(
        name=name, known=", ".join(c.name for c in settings.serving.apps) or "none"))


def openai_url(settings: Settings, name: str) -> tuple[str, str]:
    """(base URL, model) of the OpenAI-compatible app `name` (the LLM app), for another app
    (RAG) to call."""
    cfg = next((c for c in settings.serving.apps if c.name == name), None)
    model = ((cfg.args.get("llm") if cfg else None) or {}).get("model", settings.llm.model)
    return app_url(settings, name) + "/v1", model


def wait_serving(url: str, timeout_s: float = 300) -> bool:
    """Whether the app route `url` answers within `timeout_s`. The apps start in the Fleet
    server's thread after `fleet up`, and until then Serve's proxy answers 404 (no such
    route) or 503; any other answer (405 to this GET, 401) means the app is there."""
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=10).status_code not in (404, 503):
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def restore(settings: Settings) -> list[str]:
    """Call each `serving.restore` hook; returns the apps they brought back."""
    restored: list[str] = []
    for i, path in enumerate(settings.serving.restore):
        try:
            restored.extend(resolve(path, settings.function_paths)(settings) or [])
        except Exception as exc:
            log.exception(messages.SERVE_RESTORE_FAILED.format(index=i, path=path,
                                                               reason=exc))
    return restored


def start(settings: Settings) -> None:
    """What the Fleet server runs at start (in a thread: Serve apps take seconds each). The
    configured apps are recorded as starting first, so `fleet up` waits for them from the
    moment the server answers."""
    from fleet.serving import app_states

    app_states.write(settings, app_states.all_starting(settings))
    restored = restore(settings)
    if restored:
        log.warning("restored serving apps: %s", ", ".join(restored))
    started, _ = run_configured(settings)
    if started:
        log.warning("started serve apps: %s", ", ".join(started))


__all__ = ["app_url", "build", "openai_url", "resolve", "restore", "run_configured", "start",
           "wait_serving"]
