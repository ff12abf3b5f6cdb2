"""When `ray start` fails, Fleet names the cause from Ray's own output and logs (issue 29),
instead of "Ray failed to start (exit 1)". The texts are Ray 2.60's own lines."""

from __future__ import annotations

from fleet.ray_causes import explain, logs_of


def test_the_socket_path_limit_is_named_with_the_variable_to_set():
    line = ("OSError: AF_UNIX path length cannot exceed 107 bytes: '/home/ana/projects/fleet/"
            ".tmp/r/ray-3f2a/session_2026-12-01_10-00-00_123_456/sockets/dash_MetricsHead'")
    said = explain("2026-12-01 10:00:01 ERROR head.py:1 -- failed\n" + line)
    assert "107-byte limit" in said and "RAY_TMPDIR" in said and "dash_MetricsHead" in said


def test_a_cluster_already_running_is_named_with_how_to_stop_it():
    text = ("ConnectionError: Ray is trying to start at 127.0.0.1:6380, but is already running "
            "at 127.0.0.1:6380. Please specify a different port using the `--port` flag of "
            "`ray start` command.\n")
    said = explain(text)
    assert "already runs at 127.0.0.1:6380" in said and "fleet down" in said
    assert "cluster.gcs_port" in said


def test_a_port_in_use_is_named_with_its_number():
    text = ("[2026-12-01 10:00:00,000 E 1 1] grpc_server.cc:120: Failed to add port to server: "
            "0.0.0.0:43117\n[... ] bind: Address already in use\n")
    said = explain(text)
    assert "in use (port 43117)" in said and "fleet doctor" in said


def test_an_unwritable_temp_dir_is_named():
    said = explain("PermissionError: [Errno 13] Permission denied: '/tmp/ray-0873/session_x'\n")
    assert "/tmp/ray-0873/session_x" in said and "RAY_TMPDIR" in said


def test_an_unknown_failure_explains_nothing():
    assert explain("Traceback (most recent call last):\nValueError: something else\n") is None


def test_only_this_start_s_output_and_the_session_logs_are_read(tmp_path):
    log = tmp_path / "ray.log"
    log.write_text("ConnectionError: Ray is trying to start at a:1, but is already running "
                   "at a:1. old run\n")
    since = log.stat().st_size
    with open(log, "a") as f:
        f.write("--- this start ---\n")
    session = tmp_path / "ray" / "session_latest" / "logs"
    session.mkdir(parents=True)
    (session / "dashboard.log").write_text(
        "OSError: AF_UNIX path length cannot exceed 107 bytes: /x/sockets/s\n")
    text = logs_of(log, str(tmp_path / "ray"), since)
    assert "old run" not in text and "this start" in text
    assert "107-byte limit" in explain(text)
