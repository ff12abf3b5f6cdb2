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


def plant(tree: Path, module: str, code: str) -> str:
    """Append a function holding `code` to `module`'s file; returns the old text."""
    path = tree / (module.replace(".", "/") + ".py")
    old = path.read_text()
    path.write_text(old + f"\n\ndef _planted():\n    {code}\n")
    return old


def test_the_tree_keeps_every_contract():
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(tree):
    path = tree / "fleet" / "store" / "kv.py"
    old = plant(tree, "fleet.store.kv", "from fleet.cli import render  # noqa")
    try:
        out = lint(tree)
    finally:
        path.write_text(old)
    assert out.returncode != 0
    assert "fleet.store.kv -> fleet.cli.render" in out.stdout


def test_a_cycle_among_subpackages_is_refused(tree):
    a, b = tree / "fleet" / "store" / "kv.py", tree / "fleet" / "store" / "ids.py"
    old_a = plant(tree, "fleet.store.kv", "from fleet.store import ids  # noqa")
    old_b = plant(tree, "fleet.store.ids", "from fleet.store import kv  # noqa")
    try:
        out = lint(tree)
    finally:
        a.write_text(old_a)
        b.write_text(old_b)
    assert out.returncode != 0
    assert "No cycles are allowed in fleet.store" in out.stdout


def test_fleet_importing_the_bot_is_refused(tree):
    path = tree / "fleet" / "cli" / "cluster_cmds.py"
    old = plant(tree, "fleet.cli.cluster_cmds", "import bot.console  # noqa")
    try:
        out = lint(tree)
    finally:
        path.write_text(old)
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
