"""The model factories a train request may name: an allow-list, never an import string.

A train request once named any dotted path as its factory, and the worker imported and
called it (`model=os.system`). Now a name resolves only to

- a callable registered with `@model_factory` (under `module.qualname`, or the name given),
  in a module Fleet imports anyway (a function module) or in `model_factory_modules`;
- a top-level callable defined in a module listed in `model_factory_modules`.

Nothing outside those modules is ever imported on a request's behalf.

    from fleet import model_factory

    @model_factory
    def tiny_linear(n_in: int, n_out: int) -> nn.Module: ...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from fleet import messages
from fleet.config import Settings, load_settings

_REGISTERED: dict[str, Callable[..., Any]] = {}


def model_factory(fn: Callable | None = None, *, name: str | None = None):
    """Register `fn(n_in, n_out, **kwargs) -> nn.Module` as a factory requests may name."""

    def register(f: Callable) -> Callable:
        _REGISTERED[name or f"{f.__module__}.{f.__qualname__}"] = f
        return f

    return register(fn) if fn is not None else register


def _allowed_modules(settings: Settings) -> tuple[str, ...]:
    return (*settings.function_modules, *settings.model_factory_modules)


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def resolve(name: str, settings: Settings | None = None) -> Callable[..., Any]:
    """The factory called `name`, or ValueError naming the known ones (a 422 on `model`)."""
    settings = settings or load_settings()
    if name in _REGISTERED:
        return _REGISTERED[name]
    module, _, attr = name.rpartition(".")
    if module and _under(module, _allowed_modules(settings)):
        from fleet.registry import add_function_paths

        add_function_paths(settings)
        try:
            mod = importlib.import_module(module)
        except ImportError:
            mod = None
        if name in _REGISTERED:
            return _REGISTERED[name]
        obj = getattr(mod, attr, None) if mod is not None else None
        if (_under(module, settings.model_factory_modules) and callable(obj)
                and getattr(obj, "__module__", None) == module and not attr.startswith("_")):
            return obj
    from fleet.registry import registry_for

    registry_for(settings)  # function modules register their factories on import
    known = ", ".join(sorted(_REGISTERED)) or "none registered"
    raise ValueError(messages.MODEL_FACTORY_UNKNOWN.format(value=name, known=known))
