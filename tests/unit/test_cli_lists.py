"""Lists read at 80 columns as at 200 (issue 27): one line per row, never a split word or
id, relative times, columns dropped by priority; `-o wide|json|yaml`; `list` wherever a
group lists. Run through the `fleet` command on a store with long names in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fleet.cli.columns import TOKENS
from fleet.cli.lists import Col, ago, fit

FLEET = str(Path(sys.executable).parent / "fleet")
LONG = "bob-the-very-long-named-deployer"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from fleet.config import load_settings
    from fleet.store import open_store

    home = tmp_path_factory.mktemp("lists")
    store = open_store(load_settings(home).resolved_store_url)
    for name in ("alice", LONG, "carol"):
        store.tokens.add(name=name, scopes=["read", "invoke"], roles=["deployer", "kb-writer"],
                         actor="local-admin", ttl_s=3600 if name == "carol" else None)
    run = store.runs.start(experiment="churn-experiment-with-a-long-name", function="train",
                           params={})
    store.runs.log_metrics(run.id, 1, {"train_loss": 0.1234567, "val_accuracy": 0.9123})
    store.approvals.create(gate="alias", target="model:churn@prod", requested_by="dee",
                           summary="Move churn@prod to 3: the canary passed after two days "
                                   "of traffic with no errors at all", role="approver",
                           ttl_s=600)
    return home


def fleet(home, *args, columns=80):
    out = subprocess.run([FLEET, *args], env={**os.environ, "FLEET_HOME": str(home),
                                              "COLUMNS": str(columns), "NO_COLOR": "1"},
                         capture_output=True, text=True, timeout=120)
    return out


@pytest.mark.parametrize("columns", [80, 200])
def test_every_list_fits_the_terminal_with_whole_words(home, columns):
    for args, must in ((["tokens"], ["ID", "NAME", "SCOPES", LONG, "alice"]),
                       (["runs"], ["EXPERIMENT", "churn-experiment-with-a-long-name", "ago"]),
                       (["approvals"], ["TARGET", "model:churn@prod", " in "])):
        out = fleet(home, *args, columns=columns)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert all(len(line) <= columns for line in lines), out.stdout
        assert len(lines) >= 2 and all(m in out.stdout for m in must), out.stdout
        for line in lines[1:]:  # one line per row, each starting with its whole (short) id
            assert line.split()[0].startswith(("tok_", "run_", "ap-")), out.stdout
    wide = fleet(home, "tokens", columns=columns).stdout
    assert ("CREATED" in wide) == (columns == 200)  # dropped first at 80, not cut


def test_wide_json_yaml_and_list(home):
    wide = fleet(home, "tokens", "list", "-o", "wide").stdout
    assert "BY" in wide and "local-admin" in wide and "2026" not in wide.splitlines()[0]
    assert any(len(line) > 80 for line in wide.splitlines())  # wide does not cut: it runs on
    as_json = json.loads(fleet(home, "tokens", "list", "-o", "json").stdout)
    assert {t["name"] for t in as_json} == {"alice", LONG, "carol"}
    assert "sha256" not in as_json[0]
    as_yaml = yaml.safe_load(fleet(home, "approvals", "-o", "yaml").stdout)
    assert as_yaml[0]["target"] == "model:churn@prod"
    assert json.loads(fleet(home, "runs", "--json").stdout)[0]["experiment"].startswith("churn")
    bad = fleet(home, "runs", "-o", "xml")
    assert bad.returncode == 2 and "table, wide, json or yaml" in bad.stderr


def test_columns_drop_by_priority_before_anything_is_cut():
    cols = (Col("ID", lambda r: r, 0, kind="id"), Col("NOTE", lambda r: r, 1, cut=True),
            Col("EXTRA", lambda r: r, 2))
    cells = [["tok_1234", "a note that is long enough to cut somewhere", "x" * 10]]
    shown, widths = fit(list(cols), cells, 60)
    assert shown == [0, 1, 2] and sum(widths) + 4 <= 60 and widths[0] == 8
    shown, widths = fit(list(cols), cells, 30)
    assert shown == [0, 1] and widths[1] == 30 - 8 - 2  # EXTRA went, then NOTE was cut
    assert fit(list(TOKENS), [["tok_1", "", "", "", "", "", "", "", ""]], 80)[0] == [0, 1]


def test_relative_times():
    assert ago(1000.0, now=1012.0) == "12s ago"
    assert ago(1000.0, now=1000.0 + 3 * 3600 + 5) == "3h ago"
    assert ago(1000.0 + 120, now=1000.0) == "in 2m"
    assert ago("1970-01-01T00:16:40+00:00", now=1000.0 + 2 * 86400) == "2d ago"
    assert ago(None) == ""
