"""Artifact storage by URI: file:// under FLEET_HOME by default, s3:// on any S3-compatible
store. Ray Train and Ray Data get the same storage through `pyarrow_filesystem`.

    store = artifact_store(settings)
    uri = store.put_file(Path("model.pt"), store.uri("models", "churn", "1", "model.pt"))
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fleet.artifacts.access import DataAccess, ReadLocation, WriteLocation, data_access
from fleet.artifacts.backends import ChecksumMismatch, LocalBackend, S3Backend
from fleet.artifacts.uris import Uri, join, parse, to_uri
from fleet.config import Settings

__all__ = ["ArtifactStore", "ChecksumMismatch", "DataAccess", "ReadLocation", "Uri",
           "WriteLocation", "artifact_store", "data_access", "join", "parse", "to_uri"]


class ArtifactStore:
    def __init__(self, settings: Settings, root: str | None = None) -> None:
        """`root` overrides the configured artifact root (e.g. one experiment on S3)."""
        self.settings = settings
        self.root = root or settings.artifact_root
        a = settings.artifacts
        self._local = LocalBackend()
        self._s3: S3Backend | None = None
        self._s3_args = dict(endpoint_url=a.s3_endpoint_url, access_key=a.s3_access_key_id,
                             secret_key=(a.s3_secret_access_key.get_secret_value()
                                         if a.s3_secret_access_key else None),
                             region=a.s3_region)

    def _backend(self, u: Uri):
        if u.scheme == "file":
            return self._local
        if self._s3 is None:
            self._s3 = S3Backend(**self._s3_args)
        return self._s3

    def uri(self, *parts: str) -> str:
        """A URI under the configured root."""
        return join(self.root, *parts)

    def put_file(self, local: Path, uri: str) -> str:
        u = parse(uri)
        self._backend(u).put_file(Path(local), u)
        return str(u)

    def get_file(self, uri: str, local: Path) -> Path:
        u = parse(uri)
        self._backend(u).get_file(u, Path(local))
        return Path(local)

    def put_bytes(self, data: bytes, uri: str) -> str:
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            return self.put_file(Path(f.name), uri)
        finally:
            Path(f.name).unlink(missing_ok=True)

    def get_bytes(self, uri: str) -> bytes:
        with tempfile.TemporaryDirectory() as d:
            return self.get_file(uri, Path(d) / "blob").read_bytes()

    def check_writable(self, uri: str) -> None:
        """Fail early, with the fix, if nothing can be written under `uri` (a missing
        bucket, refused credentials), before hours of work are spent."""
        u = parse(uri)
        if u.scheme == "file":
            u.path.mkdir(parents=True, exist_ok=True)
        else:
            self._backend(u)._check_bucket(u)

    def exists(self, uri: str) -> bool:
        u = parse(uri)
        return self._backend(u).exists(u)

    def size(self, uri: str) -> int:
        """Bytes in the object at `uri`, without reading it; NotFound if there is none."""
        u = parse(uri)
        return self._backend(u).size(u)

    def list(self, uri: str) -> list[str]:
        u = parse(uri)
        return self._backend(u).list(u)

    def delete(self, uri: str) -> None:
        u = parse(uri)
        self._backend(u).delete(u)

    def pyarrow_filesystem(self, uri: str):
        """(filesystem, path) for pyarrow, Ray Data and Ray Train's storage_filesystem."""
        import pyarrow.fs as pafs

        u = parse(uri)
        if u.scheme == "file":
            return pafs.LocalFileSystem(), u.key
        kwargs = {"region": self._s3_args["region"]}
        endpoint = self._s3_args["endpoint_url"]
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs.update(endpoint_override=host, scheme=scheme)
        if self._s3_args["access_key"]:
            kwargs.update(access_key=self._s3_args["access_key"],
                          secret_key=self._s3_args["secret_key"])
        return pafs.S3FileSystem(**kwargs), f"{u.bucket}/{u.key}".rstrip("/")


def artifact_store(settings: Settings) -> ArtifactStore:
    return ArtifactStore(settings)
