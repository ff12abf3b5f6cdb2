"""`fleet up` tries `ray start` once more when Ray gave up on its own 30 s startup wait
(seen with a second installation busy beside this one), and only then: any other failure
is reported at once with its log."""

from __future__ import annotations

import pytest

from fleet import lifecycle
from fleet.errors import Unavailable

TIMED_OUT = ("Exception: The current node timed out during startup. This could happen "
             "because some of the raylet failed to startup or the GCS has become overloaded.")


def test_only_rays_startup_timeout_is_recognised(tmp_path):
    log = tmp_path / "ray.log"
    assert not lifecycle.startup_timed_out(log)  # no log yet
    log.write_text("x" * 20_000 + "\nValueError: port 6380 is taken\n")
    assert not lifecycle.startup_timed_out(log)
    log.write_text("x" * 20_000 + "\n" + TIMED_OUT + "\n")
    assert lifecycle.startup_timed_out(log)


def test_a_timed_out_start_is_tried_once_more_and_other_failures_are_not(monkeypatch):
    calls, said = [], []

    def start(settings, progress, outcomes):
        calls.append(1)
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(lifecycle.time, "sleep", lambda s: None)
    outcomes = [lifecycle.RayStartTimedOut("timed out"), "started"]
    monkeypatch.setattr(lifecycle, "_start_ray", lambda s, p: start(s, p, outcomes))
    assert lifecycle._start_ray_retrying(None, said.append) == "started"
    assert len(calls) == 2 and "once more" in said[0]

    calls.clear()
    outcomes[:] = [Unavailable("port taken"), "never"]
    with pytest.raises(Unavailable, match="port taken"):
        lifecycle._start_ray_retrying(None, said.append)
    assert len(calls) == 1

    calls.clear()
    outcomes[:] = [lifecycle.RayStartTimedOut("a"), lifecycle.RayStartTimedOut("b")]
    with pytest.raises(lifecycle.RayStartTimedOut):
        lifecycle._start_ray_retrying(None, said.append)
    assert len(calls) == 2  # once more, not forever
