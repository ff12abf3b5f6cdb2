"""A request reaches only the data it may, tried through the live gateway with the weakest
token that can invoke (issue 9, item 1). Before, an `invoke` token read fleet.yaml (and with
it the admin token) through validate_data's `observed` values."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import ADMIN, APPROVER, DEPLOYER


@pytest.fixture(scope="module")
def weakest(gateway_url):
    with httpx.Client(base_url=gateway_url, timeout=60,
                      headers={"Authorization": f"Bearer {DEPLOYER}"}) as c:
        yield c


def recorded(client, function: str) -> set[str]:
    return {i.id for i in client.store.invocations.list(function=function, limit=500)}


def refused(client, http, function: str, payload: dict, field: str) -> dict:
    before = recorded(client, function)
    r = http.post(f"/v1/functions/{function}/invoke", json=payload)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    for secret in (ADMIN, APPROVER, DEPLOYER):  # no file content, no token, anywhere
        assert secret not in r.text
    assert [e["field"] for e in body["errors"]] == [field]
    assert "data roots" in body["detail"]
    assert recorded(client, function) == before  # nothing recorded, so nothing ran
    return body


def sneaky(path) -> dict:
    """The exploit from the issue: each line of the file becomes an 'observed' value."""
    return {"path": str(path), "format": "csv", "allowed_values": {"tokens:": ["x"]}}


def test_fleet_yaml_is_refused_and_its_tokens_stay_secret(client, weakest, fleet_home):
    body = refused(client, weakest, "validate_data", sneaky(fleet_home / "fleet.yaml"), "path")
    assert str(client.settings.resolved_data_roots[0]) in body["detail"]  # names the roots


def test_ray_auth_token_and_etc_passwd_are_refused(client, weakest):
    refused(client, weakest, "validate_data", sneaky(Path.home() / ".ray" / "auth_token"),
            "path")
    refused(client, weakest, "validate_data", sneaky("/etc/passwd"), "path")
    refused(client, weakest, "validate_data", sneaky("file:///etc/passwd"), "path")


def test_a_symlink_or_dotdot_out_of_a_data_root_is_refused(client, weakest, tmp_path,
                                                           fleet_home):
    link = tmp_path / "looks-like-data.csv"
    link.symlink_to(fleet_home / "fleet.yaml")
    refused(client, weakest, "validate_data", sneaky(link), "path")
    dotdot = f"{tmp_path}/{'../' * 12}etc/passwd"
    refused(client, weakest, "validate_data", sneaky(dotdot), "path")


def test_a_write_outside_the_data_roots_is_refused_and_nothing_is_written(client, weakest):
    target = Path.home() / f".fleet-escape-{client.settings.home.name}"
    refused(client, weakest, "batch_infer",
            {"model": "anything", "input": "s3://fleet-it-data/x.parquet",
             "output": str(target)}, "output")
    assert not target.exists()
    refused(client, weakest, "train",
            {"data": "s3://fleet-it-data/x.parquet", "features": ["a"], "label": "y",
             "artifact_root": "s3://someone-elses-bucket/models"}, "artifact_root")


def test_a_model_factory_outside_the_allow_list_is_refused(client, weakest, tmp_path):
    before = recorded(client, "train")
    r = weakest.post("/v1/functions/train/invoke", json={
        "data": str(tmp_path / "t.parquet"), "features": ["a"], "label": "y",
        "model": "os.system", "model_kwargs": {"command": "touch /tmp/pwned"}})
    assert r.status_code == 422, r.text
    problem = {e["field"]: e for e in r.json()["errors"]}["model"]
    assert "not a registered model factory" in problem["message"]
    assert "fleet_testfuncs.tiny_linear" in problem["message"]  # what may be named instead
    assert recorded(client, "train") == before


def test_a_link_planted_inside_a_data_folder_is_refused_for_reads_and_writes(
        client, weakest, tmp_path, fleet_home):
    """Issue 26, finding 1: only the named path was resolved, so rag_ingest of a folder
    holding a link to the admin token ingested it (and rag_query served it), and batch_infer
    wrote through a pre-placed link to a file outside the roots."""
    docs = tmp_path / "handbook"
    (docs / "sub").mkdir(parents=True)
    (docs / "guide.md").write_text("# Guide\nDeploy with fleet deploy.\n")
    (docs / "sub" / "notes.md").symlink_to(fleet_home / "fleet.yaml")
    body = refused(client, weakest, "rag_ingest",
                   {"source": str(docs), "knowledge_base": "planted"}, "source")
    assert "sub/notes.md" in body["detail"]
    refused(client, weakest, "rag_ingest",  # the other way to name it
            {"source": docs.as_uri(), "knowledge_base": "planted"}, "source")

    victim = Path.home() / f".fleet-victim-{client.settings.home.name}"
    victim.write_text("keep me")
    try:
        out = tmp_path / "scored"
        out.mkdir()
        (out / "part-00000.parquet").symlink_to(victim)
        refused(client, weakest, "batch_infer",
                {"model": "anything", "input": "s3://fleet-it-data/x.parquet",
                 "output": str(out)}, "output")
        assert victim.read_text() == "keep me"
    finally:
        victim.unlink()


def test_a_file_uri_with_a_host_is_refused(client, weakest, tmp_path):
    before = recorded(client, "validate_data")
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    r = weakest.post("/v1/functions/validate_data/invoke",
                     json={"path": f"file://some-host{table}"})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["path"]
    assert "three slashes" in r.text
    assert recorded(client, "validate_data") == before
