"""Artifact storage on local files and on a real S3-compatible server (SeaweedFS)."""

import uuid

import boto3
import pytest

from fleet.artifacts import ArtifactStore, ChecksumMismatch
from fleet.config import load_settings
from fleet.errors import Forbidden, NotFound
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY


def settings_for(tmp_path, root, endpoint=None, key=ACCESS_KEY, secret=SECRET_KEY):
    extra = ""
    if endpoint:
        extra = (f"  s3_endpoint_url: {endpoint}\n  s3_access_key_id: {key}\n"
                 f"  s3_secret_access_key: {secret}\n")
    home = tmp_path / uuid.uuid4().hex[:8]  # settings are cached per FLEET_HOME
    home.mkdir()
    (home / "fleet.yaml").write_text(f"artifacts:\n  root: {root}\n{extra}")
    return load_settings(home)


@pytest.fixture(scope="session")
def bucket(s3_server):
    """One bucket for the session (each SeaweedFS bucket takes volumes); tests use prefixes."""
    name = f"fleet-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY,
                 aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
                 ).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path):
    if request.param == "file":
        return ArtifactStore(settings_for(tmp_path, (tmp_path / "art").as_uri()))
    endpoint = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("bucket")
    prefix = uuid.uuid4().hex[:8]
    return ArtifactStore(settings_for(tmp_path, f"s3://{bucket}/{prefix}", endpoint))


def test_round_trip_list_and_delete(store, tmp_path):
    src = tmp_path / "model.bin"
    src.write_bytes(b"weights" * 1000)
    uri = store.put_file(src, store.uri("models", "churn", "1", "model.bin"))
    assert store.exists(uri)
    assert store.get_file(uri, tmp_path / "back.bin").read_bytes() == src.read_bytes()
    store.put_bytes(b"{}", store.uri("models", "churn", "1", "meta.json"))
    assert store.list(store.uri("models", "churn")) == ["1/meta.json", "1/model.bin"]
    store.delete(uri)
    assert not store.exists(uri)


def test_missing_artifact_is_not_found(store, tmp_path):
    with pytest.raises(NotFound, match="No artifact"):
        store.get_file(store.uri("nope.bin"), tmp_path / "x")


def test_large_file_goes_multipart_and_verifies(store, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(range(256)) * (20 * 4096))  # 20 MiB: above the multipart threshold
    uri = store.put_file(src, store.uri("big.bin"))
    assert store.get_file(uri, tmp_path / "big2.bin").stat().st_size == src.stat().st_size


def test_corruption_is_detected_on_read(tmp_path):
    store = ArtifactStore(settings_for(tmp_path, (tmp_path / "art").as_uri()))
    src = tmp_path / "m.bin"
    src.write_bytes(b"abc" * 100)
    uri = store.put_file(src, store.uri("m.bin"))
    (tmp_path / "art" / "m.bin").write_bytes(b"abd" * 100)
    with pytest.raises(ChecksumMismatch, match="corrupt"):
        store.get_file(uri, tmp_path / "out.bin")


def test_s3_wrong_credentials_and_missing_bucket_are_clear(s3_server, bucket, tmp_path):
    bad = ArtifactStore(settings_for(tmp_path, f"s3://{bucket}/x", s3_server, key="wrong-key"))
    with pytest.raises(Forbidden, match="refused the credentials"):
        bad.put_bytes(b"x", bad.uri("a.bin"))
    good = ArtifactStore(settings_for(tmp_path, "s3://no-such-bucket-xyz/x", s3_server))
    with pytest.raises(NotFound, match="Bucket 'no-such-bucket-xyz' does not exist"):
        good.put_bytes(b"x", good.uri("a.bin"))


def test_pyarrow_filesystem_reads_what_the_store_wrote(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    local = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), local)
    uri = store.put_file(local, store.uri("data", "t.parquet"))
    fs, path = store.pyarrow_filesystem(uri)
    assert pq.read_table(path, filesystem=fs).column("x").to_pylist() == [1, 2, 3]
