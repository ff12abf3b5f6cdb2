"""Function discovery: import the configured modules and collect every `@function`.

Fleet never imports the top-level `functions` package by name in code; it is the default
entry of `function_modules` in the settings, so users add their own modules (and directories
to put on sys.path) without editing Fleet.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable
from functools import lru_cache
from types import ModuleType

from fleet import messages
from fleet.errors import DefinitionError, NotFound
from fleet.spec import FunctionSpec, spec_of


class Registry:
    """An immutable name -> FunctionSpec map."""

    def __init__(self, specs: Iterable[FunctionSpec]) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            other = self._specs.get(spec.name)
            if other is not None and other.fn is not spec.fn:
                raise DefinitionError(messages.DUPLICATE_FUNCTION.format(
                    name=spec.name, first=other.qualname, second=spec.qualname))
            self._specs[spec.name] = spec

    def get(self, name: str) -> FunctionSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise NotFound(messages.UNKNOWN_FUNCTION.format(name=name)) from None

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __iter__(self):
        return iter(self._specs[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._specs)


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise DefinitionError(messages.IMPORT_FAILED.format(module=name, reason=exc)) from exc


def _modules(root: str) -> Iterable[ModuleType]:
    mod = _import(root)
    yield mod
    if hasattr(mod, "__path__"):  # a package: walk its submodules too
        for info in pkgutil.walk_packages(mod.__path__, prefix=f"{root}."):
            yield _import(info.name)


def _specs_in(mod: ModuleType) -> Iterable[FunctionSpec]:
    for value in vars(mod).values():
        spec = spec_of(value)
        if spec is not None:
            yield spec


def add_paths(paths: Iterable[str]) -> None:
    for p in paths:
        if p not in sys.path:
            sys.path.insert(0, p)


def add_function_paths(settings) -> None:
    """Make the configured function directories importable (Ray workers unpickling a
    function by reference need them too)."""
    add_paths(settings.function_paths)


@lru_cache(maxsize=8)
def discover(modules: tuple[str, ...], paths: tuple[str, ...] = ()) -> Registry:
    """Import `modules` (packages recursively) after putting `paths` on sys.path."""
    add_paths(paths)
    specs: list[FunctionSpec] = []
    for root in modules:
        for mod in _modules(root):
            specs.extend(_specs_in(mod))
    return Registry(specs)


def registry_for(settings) -> Registry:
    return discover(tuple(settings.function_modules), tuple(settings.function_paths))
