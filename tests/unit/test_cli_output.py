"""What the `fleet` command prints is what Fleet meant to say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FLEET = str(Path(sys.executable).parent / "fleet")


def test_an_error_prints_as_written_brackets_and_all(tmp_path):
    """Issue 29: console markup ate bracketed text in messages, so a pattern such as
    '^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$' printed as '^{1,61}$' and could not be followed."""
    env = {**os.environ, "FLEET_HOME": str(tmp_path)}
    out = subprocess.run([FLEET, "up", "--address", "[a-z0-9]:notaport"], env=env,
                         capture_output=True, text=True, timeout=120)
    said = " ".join((out.stdout + out.stderr).split())
    assert out.returncode != 0 and "[a-z0-9]:notaport" in said, said
