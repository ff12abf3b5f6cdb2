"""Ray's temp dir fits Ray's socket paths wherever the checkout or FLEET_HOME is.

Before, the Makefile put RAY_TMPDIR inside the checkout: from any checkout path over about
22 characters `make demo` failed at step 1 with "Ray failed to start", and `make test`
errored 112 times (AF_UNIX path length cannot exceed 107 bytes, in Ray's dashboard log).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fleet import ray_paths
from fleet.errors import Unavailable
from tests.conftest import ROOT
from tests.support.postgres import free_port

FLEET = str(Path(sys.executable).parent / "fleet")


def long_path(base: Path, length: int) -> Path:
    """A folder under `base` whose path is `length` characters and holds a space."""
    head = base / "my projects"
    return head / ("f" * (length - len(str(head)) - 1))


def test_a_home_anywhere_gets_a_short_temp_dir_of_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_TMPDIR", raising=False)
    monkeypatch.delenv("TMPDIR", raising=False)
    one, two = long_path(tmp_path, 100), long_path(tmp_path, 140)
    assert len(str(one)) == 100 and " " in str(one)
    dirs = {ray_paths.temp_dir(one), ray_paths.temp_dir(two)}
    assert len(dirs) == 2  # two installations never share one
    for d in dirs:
        ray_paths.check_temp_dir(d)  # fits, so no error
        assert d.startswith("/tmp/ray-")
        # the longest socket Ray makes under it fits the kernel's limit
        assert len((d + ray_paths.LONGEST_SOCKET_SUFFIX).encode()) <= 107
    assert ray_paths.temp_dir(one) == ray_paths.temp_dir(one)  # stable across runs


def test_a_long_tmpdir_is_passed_over_and_a_long_ray_tmpdir_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_TMPDIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(long_path(tmp_path, 60)))  # macOS's is ~49
    assert ray_paths.temp_base() == "/tmp"
    monkeypatch.setenv("RAY_TMPDIR", str(long_path(tmp_path, 60)))
    try:
        ray_paths.check_temp_dir(ray_paths.temp_dir(tmp_path))
    except Unavailable as exc:
        assert "RAY_TMPDIR" in exc.detail and "at most 23 bytes" in exc.detail
        assert str(long_path(tmp_path, 60)) in exc.detail
    else:
        raise AssertionError("a temp dir too long for Ray's sockets was accepted")


def test_the_checkouts_tools_get_short_dirs_too():
    tests, bench = ray_paths.short_dir("t", ROOT), ray_paths.short_dir("b", ROOT)
    assert tests != bench and tests == ray_paths.short_dir("t", ROOT)
    for base in (tests, bench, ray_paths.short_dir("mn", ROOT)):
        assert len(base) <= 23  # room for ray-<hash> and the sockets under it


def test_fleet_up_says_what_to_set_before_ray_fails(tmp_path):
    """`fleet up` with a too-long RAY_TMPDIR names it and the fix, and starts nothing."""
    home = long_path(tmp_path, 100)
    home.mkdir(parents=True)
    (home / "fleet.yaml").write_text(
        f"gateway: {{port: {free_port()}}}\n"
        f"cluster: {{gcs_port: {free_port()}, dashboard_port: {free_port()}}}\n")
    env = {**os.environ, "FLEET_HOME": str(home), "RAY_TMPDIR": str(long_path(tmp_path, 50))}
    up = subprocess.run([FLEET, "up"], env=env, capture_output=True, text=True, timeout=120)
    said = " ".join((up.stdout + up.stderr).split())  # the console wraps lines
    assert up.returncode != 0, said
    assert "Set RAY_TMPDIR to a short folder" in said and "Traceback" not in said
    assert not (home / "run" / "cluster.json").exists()


def test_ray_gets_an_interpreter_path_without_a_space(tmp_path, monkeypatch):
    """Ray runs workers as `bash -c "exec <python> ..."` with the path unquoted: from a
    virtualenv at a path with a space, every worker failed with exit 127."""
    spaced = tmp_path / "my projects" / "venv"
    spaced.parent.mkdir()
    spaced.symlink_to(sys.prefix)  # the same virtualenv, reached through a space
    monkeypatch.setattr(sys, "prefix", str(spaced))
    monkeypatch.setattr(sys, "executable", str(spaced / "bin" / "python"))
    python = ray_paths.python_for_ray()
    assert " " not in python and python != sys.executable
    # what Ray does with it: through bash, unquoted, the virtualenv (and Ray) still found
    out = subprocess.run(["bash", "-c", f"exec {python} -c 'import sys, ray; "
                          "print(sys.prefix, ray.__file__)'"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    prefix, ray_file = out.stdout.split()
    assert " " not in ray_file and ray_file.startswith(prefix)
    assert ray_paths.python_for_ray() == python  # the link is made once, then reused
    command = ray_paths.ray_command("--version")
    assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    os.unlink(ray_paths.short_dir("py", sys.prefix))  # the link this test made

