"""What a request may read or write, and which model factories it may name.

Each refusal here was a way for the weakest token to read the admin token, take over the
Ray cluster, or run any importable callable (issue 9, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from fleet import ReadLocation, WriteLocation, config, function
from fleet.artifacts import DataAccess
from fleet.errors import Forbidden, InvalidInput
from fleet.flavors import factories
from fleet.runtime.payloads import validate_payload
from fleet.spec import spec_of


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An installation whose data roots are tmp/data and s3://lake/team-a."""
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "data").mkdir()
    (home / "fleet.yaml").write_text(
        "tokens:\n  - {name: admin, token: secret-admin-token-0123, scopes: [admin]}\n"
        f"data_roots: ['{tmp_path / 'data'}', 's3://lake/team-a']\n")
    monkeypatch.setenv("FLEET_HOME", str(home))
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "raytmp"))
    config.clear_cache()
    yield home
    config.clear_cache()


def home_under(tmp_path, monkeypatch, root) -> Path:
    """An installation at tmp_path/home whose one data root is `root`."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "fleet.yaml").write_text(f"data_roots: ['{root}']\n")
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "raytmp"))
    config.clear_cache()
    return home


def access(home) -> DataAccess:
    return DataAccess(config.load_settings(home))


def refused(home, value, write=False):
    with pytest.raises(Forbidden) as exc:
        access(home).check(str(value), field="path", write=write)
    return exc.value


def test_paths_inside_a_root_resolve_to_a_canonical_uri(home, tmp_path):
    table = tmp_path / "data" / "sub" / "t.csv"
    got = access(home).check(str(table), field="path")
    assert got == table.resolve().as_uri()
    assert access(home).check(table.as_uri(), field="path") == got
    # the artifact root (FLEET_HOME/artifacts) is a root too, though it is inside FLEET_HOME
    art = home / "artifacts" / "models" / "m.pt"
    assert access(home).check(str(art), field="path") == art.resolve().as_uri()


def test_fleet_yaml_is_refused_and_the_refusal_names_the_roots_not_the_content(home):
    err = refused(home, home / "fleet.yaml")
    assert err.status == 403
    assert "secret-admin-token" not in str(err)
    assert str((Path(str(home)).parent / "data").resolve()) in err.detail
    assert "s3://lake/team-a" in err.detail
    assert err.errors[0].field == "path"


def test_fleet_home_stays_private_even_when_a_root_contains_it(tmp_path, monkeypatch):
    home = home_under(tmp_path, monkeypatch, tmp_path)  # the root contains FLEET_HOME
    for private in ("fleet.yaml", "fleet.db", "fleet.db-wal", "logs/server.log",
                    "run/cluster.json", "anything-else"):
        refused(home, home / private)
    assert access(home).check(str(tmp_path / "x.csv"), field="path")


def test_ray_files_are_refused_even_under_a_root(tmp_path, monkeypatch):
    home = home_under(tmp_path, monkeypatch, "/")
    refused(home, Path.home() / ".ray" / "auth_token")
    refused(home, "~/.ray/auth_token")
    refused(home, tmp_path / "raytmp" / "ray" / "session_latest" / "logs" / "raylet.out")


def test_etc_passwd_dotdot_and_symlinks_out_of_a_root_are_refused(home, tmp_path):
    refused(home, "/etc/passwd")
    refused(home, "file:///etc/passwd")
    refused(home, f"{tmp_path / 'data'}/../home/fleet.yaml")
    refused(home, f"{tmp_path / 'data'}/../../../../etc/passwd")
    link = tmp_path / "data" / "innocent.csv"
    link.symlink_to(home / "fleet.yaml")
    refused(home, link)
    dirlink = tmp_path / "data" / "etc"
    dirlink.symlink_to("/etc")
    refused(home, dirlink / "passwd")


def test_a_write_outside_the_roots_is_refused(home, tmp_path):
    err = refused(home, tmp_path / "elsewhere" / "out", write=True)
    assert "may not write" in err.detail
    assert not (tmp_path / "elsewhere").exists()
    assert access(home).check(str(tmp_path / "data" / "out"), field="output", write=True)


def test_s3_is_confined_to_the_configured_buckets_and_prefixes(home):
    a = access(home)
    assert a.check("s3://lake/team-a/t.parquet", field="path") == "s3://lake/team-a/t.parquet"
    assert a.check("s3://lake/team-a", field="path")
    for outside in ("s3://lake/team-b/t.parquet", "s3://lake/team-a-old/t.parquet",
                    "s3://other/team-a/t.parquet"):
        refused(home, outside)
    with pytest.raises(InvalidInput, match=r"'\.\.'"):
        a.check("s3://lake/team-a/../team-b/t.parquet", field="path")


class Req(BaseModel):
    path: ReadLocation
    out: WriteLocation | None = None


@function
def reader(req: Req) -> None:
    """A function whose request names data by location."""


def test_a_request_field_of_type_read_location_is_checked_on_validation(home, tmp_path):
    spec = spec_of(reader)
    good = validate_payload(spec, {"path": str(tmp_path / "data" / "t.csv")})
    assert good["path"].startswith("file://")
    with pytest.raises(Forbidden) as exc:
        validate_payload(spec, {"path": str(home / "fleet.yaml")})
    assert exc.value.errors[0].field == "path"
    with pytest.raises(Forbidden) as exc:
        validate_payload(spec, {"path": str(tmp_path / "data" / "t.csv"), "out": "/tmp/x"})
    assert exc.value.errors[0].field == "out"


def test_model_factories_come_from_the_allow_list_only(home, tmp_path, monkeypatch):
    settings = config.load_settings(home)
    for name in ("os.system", "subprocess.run", "builtins.eval", "functions.training.train."
                 "subprocess", "fleet.lifecycle.down"):
        with pytest.raises(ValueError, match="not a registered model factory"):
            factories.resolve(name, settings)

    @factories.model_factory(name="unit-linear")
    def linear(n_in, n_out):
        return ("linear", n_in, n_out)

    assert factories.resolve("unit-linear", settings)(3, 1) == ("linear", 3, 1)
    # a configured module offers its own top-level callables, not what it imported
    pkg = tmp_path / "mods"
    pkg.mkdir()
    (pkg / "my_models.py").write_text(
        "import os\nfrom os import system\n\ndef wide(n_in, n_out):\n    return 'wide'\n")
    (home / "fleet.yaml").write_text(
        f"function_paths: ['{pkg}']\nmodel_factory_modules: [my_models]\n")
    config.clear_cache()
    settings = config.load_settings(home)
    assert factories.resolve("my_models.wide", settings)(1, 1) == "wide"
    for name in ("my_models.system", "my_models.os"):
        with pytest.raises(ValueError):
            factories.resolve(name, settings)


def test_a_train_request_naming_os_system_is_refused_before_anything_runs(home, tmp_path):
    from functions.training.train import train

    spec = spec_of(train)
    payload = {"data": str(tmp_path / "data" / "t.csv"), "features": ["a"], "label": "y",
               "model": "os.system"}
    with pytest.raises(InvalidInput) as exc:
        validate_payload(spec, payload)
    assert [p.field for p in exc.value.errors] == ["model"]
    assert "registered model factory" in exc.value.errors[0].message


def test_a_link_inside_a_folder_that_leaves_the_roots_refuses_the_folder(home, tmp_path):
    """The link a user could plant in a shared data folder: before, only the path the
    request named was resolved, and rag_ingest of the folder read the admin token."""
    docs = tmp_path / "data" / "handbook"
    (docs / "deep" / "er").mkdir(parents=True)
    (docs / "guide.md").write_text("# Guide\n")
    assert access(home).check(str(docs), field="source").endswith("/handbook")
    for target in (home / "fleet.yaml", Path.home() / ".ray" / "auth_token", "/etc/passwd"):
        link = docs / "deep" / "er" / "notes.md"
        link.symlink_to(target)
        for write in (False, True):
            err = refused(home, docs, write=write)
            assert "deep/er/notes.md" in err.detail and "secret-admin-token" not in str(err)
            assert err.errors[0].field == "path"
        link.unlink()
    # a link out through a linked folder inside the roots is found too, loops end
    (tmp_path / "data" / "shared").mkdir()
    (tmp_path / "data" / "shared" / "loop").symlink_to(docs)
    (docs / "shared").symlink_to(tmp_path / "data" / "shared")
    access(home).check(str(docs), field="source")  # links that stay inside are fine
    (tmp_path / "data" / "shared" / "token.md").symlink_to(home / "fleet.yaml")
    assert "token.md" in refused(home, docs).detail


def test_a_folder_holding_fleets_own_files_is_refused(tmp_path, monkeypatch):
    home = home_under(tmp_path, monkeypatch, tmp_path)  # the root contains FLEET_HOME
    (tmp_path / "docs").mkdir()
    assert access(home).check(str(tmp_path / "docs"), field="source")
    assert "'home'" in refused(home, tmp_path).detail  # the folder would walk into it


def test_a_file_uri_with_a_host_is_refused_not_read_here(home, tmp_path):
    table = tmp_path / "data" / "t.csv"
    for uri in (f"file://some-host{table}", f"file://localhost{table}"):
        with pytest.raises(InvalidInput, match="three slashes") as exc:
            access(home).check(uri, field="path")
        assert exc.value.errors[0].field == "path"


def test_what_was_opened_is_checked_not_only_the_name(home, tmp_path):
    import os

    inside = tmp_path / "data" / "t.md"
    inside.write_text("fine")
    swapped = tmp_path / "data" / "swapped.md"
    swapped.symlink_to(home / "fleet.yaml")
    a = access(home)
    for path, allowed in ((inside, True), (swapped, False)):
        fd = os.open(path, os.O_RDONLY)
        try:
            assert a.opened_allowed(fd) is allowed
        finally:
            os.close(fd)
