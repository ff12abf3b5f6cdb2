"""The import direction, enforced: entry points -> services -> runtime -> store and
libraries -> config, no cycle among fleet's subpackages, and fleet never importing its
clients (pyproject.toml's [tool.importlinter], import-linter over grimp's graph, which
counts imports inside functions too). Before, about 100 imports hidden inside functions
made 18 of fleet's subpackages one import cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = ("fleet", "functions", "serve_apps", "bot")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the tree under `root`, not the install
    return subprocess.run([LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the packages and the contract, to plant violations in."""
    root = tmp_path_factory.mktemp("layers")
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, root / pkg,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@contextmanager
def planted(tree: Path, **code: str):
    """The copy with a function holding `code` appended to each module (dotted names given
    with '__' for '.'), then put back."""
    old = {}
    for module, line in code.items():
        path = tree / (module.replace("__", "/") + ".py")
        old[path] = path.read_text()
        path.write_text(old[path] + f"\n\ndef _planted():\n    {line}\n")
    try:
        yield
    finally:
        for path, text in old.items():
            path.write_text(text)


def test_the_tree_keeps_every_contract():
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(tree):
    with planted(tree, fleet__store__kv="from fleet.cli import render  # noqa"):
        out = lint(tree)
    assert out.returncode != 0
    assert "fleet.store.kv -> fleet.cli.render" in out.stdout


def test_a_cycle_among_subpackages_is_refused(tree):
    with planted(tree, fleet__store__kv="from fleet.store import ids  # noqa",
                 fleet__store__ids="from fleet.store import kv  # noqa"):
        out = lint(tree)
    assert out.returncode != 0
    assert "No cycles are allowed in fleet.store" in out.stdout


def test_fleet_importing_the_bot_is_refused(tree):
    with planted(tree, fleet__cli__cluster_cmds="import bot.console  # noqa"):
        out = lint(tree)
    assert out.returncode != 0
    assert "fleet imports none of its clients" in out.stdout and "BROKEN" in out.stdout


def test_every_part_of_fleet_has_a_layer():
    """A module the contract does not name is not checked: each must be placed."""
    import tomllib

    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in contract["contracts"] if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    parts = {p.stem for p in (ROOT / "fleet").glob("*.py") if p.stem != "__init__"}
    parts |= {p.name for p in (ROOT / "fleet").iterdir() if (p / "__init__.py").exists()}
    assert parts - placed == set(), "give these a layer in pyproject.toml"
    assert placed - parts == set(), "these layers name nothing"


def test_an_entry_point_importing_the_store_is_refused(tree):
    """The CLI, the gateway, the server, the built-in functions, the Serve apps and the bot
    hold services, never repositories."""
    with planted(tree, fleet__cli__model_cmds="from fleet.store import Store  # noqa",
                 functions__drift="from fleet.store import open_store  # noqa"):
        out = lint(tree)
    assert out.returncode != 0
    assert "Entry points reach the store only through the services BROKEN" in out.stdout
    assert "fleet.cli.model_cmds -> fleet.store" in out.stdout
    assert "functions.drift -> fleet.store" in out.stdout


ENTRY_POINTS = ("fleet/gateway", "fleet/cli", "fleet/server.py", "fleet/jobs", "fleet/scheduler",
                "functions", "serve_apps", "bot")


def repository_calls(path: Path) -> list[int]:
    """Lines with `<anything>.store.<repository>`: a repository reached past the services
    without an import (which the contract above cannot see)."""
    import ast

    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "store"]


def test_entry_points_call_services_not_repositories(tmp_path):
    files = [p for e in ENTRY_POINTS for p in
             ((ROOT / e).rglob("*.py") if (ROOT / e).is_dir() else [ROOT / e])]
    assert len(files) > 20
    found = [f"{p.relative_to(ROOT)}:{n}" for p in files for n in repository_calls(p)]
    assert found == [], "call a service (fleet.services) instead: " + ", ".join(found)
    planted_copy = tmp_path / "model_cmds.py"  # the check sees one when it is there
    planted_copy.write_text((ROOT / "fleet" / "cli" / "model_cmds.py").read_text()
                            + "\n\ndef _p(c):\n    c.store.runs.list()\n")
    assert len(repository_calls(planted_copy)) == 1
