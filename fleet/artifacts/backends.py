"""The two artifact backends: a local directory and any S3-compatible store.

Both keep a SHA-256 per object (a sidecar file locally, object metadata on S3) and verify it
on every read, so a truncated upload or a corrupted file is an error, not a bad model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from fleet import messages
from fleet.artifacts.uris import Uri
from fleet.errors import Forbidden, NotFound, Unavailable

CHUNK = 8 * 1024 * 1024
SIDE = ".sha256"


class ChecksumMismatch(Exception):
    """An artifact's content does not match the checksum recorded when it was written."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _verify(uri: Uri, expected: str | None, actual: str) -> None:
    if expected and expected != actual:
        raise ChecksumMismatch(messages.ARTIFACT_CORRUPT.format(uri=uri, actual=actual[:12],
                                                                expected=expected[:12]))


class LocalBackend:
    def put_file(self, local: Path, uri: Uri) -> str:
        digest = sha256_file(local)
        dest = uri.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".partial")
        shutil.copyfile(local, tmp)
        os.replace(tmp, dest)  # readers never see half a file
        Path(str(dest) + SIDE).write_text(digest)
        return digest

    def get_file(self, uri: Uri, local: Path) -> str:
        if not uri.path.is_file():
            raise NotFound(messages.NO_ARTIFACT.format(uri=uri))
        local.parent.mkdir(parents=True, exist_ok=True)
        if uri.path.resolve() != local.resolve():
            shutil.copyfile(uri.path, local)
        digest = sha256_file(local)
        side = Path(str(uri.path) + SIDE)
        _verify(uri, side.read_text().strip() if side.exists() else None, digest)
        return digest

    def exists(self, uri: Uri) -> bool:
        return uri.path.exists()

    def size(self, uri: Uri) -> int:
        try:
            return uri.path.stat().st_size
        except FileNotFoundError:
            raise NotFound(messages.NO_ARTIFACT.format(uri=uri)) from None

    def list(self, uri: Uri) -> list[str]:
        root = uri.path
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                      if p.is_file() and not p.name.endswith(SIDE))

    def delete(self, uri: Uri) -> None:
        if uri.path.is_dir():
            shutil.rmtree(uri.path)
        else:
            uri.path.unlink(missing_ok=True)
            Path(str(uri.path) + SIDE).unlink(missing_ok=True)


class S3Backend:
    def __init__(self, *, endpoint_url: str | None, access_key: str | None,
                 secret_key: str | None, region: str) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.endpoint_url = endpoint_url
        self._known_buckets: set[str] = set()
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          s3={"addressing_style": "path"}))
        # Multipart above 16 MiB, in 16 MiB parts.
        self.transfer = TransferConfig(multipart_threshold=16 * 1024 * 1024,
                                       multipart_chunksize=16 * 1024 * 1024)

    def _translate(self, exc: Exception, uri: Uri) -> Exception:
        from botocore.exceptions import ClientError, EndpointConnectionError

        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        # upload_file / download_file wrap the ClientError that says what went wrong.
        while not isinstance(exc, (ClientError, EndpointConnectionError)) and (
                exc.__cause__ or exc.__context__):
            exc = exc.__cause__ or exc.__context__
        if isinstance(exc, EndpointConnectionError):
            return Unavailable(messages.S3_UNREACHABLE.format(where=where))
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                return NotFound(messages.NO_BUCKET.format(bucket=uri.bucket, where=where))
            if code in ("NoSuchKey", "404", "NotFound"):
                return NotFound(messages.NO_ARTIFACT.format(uri=uri))
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
                return Forbidden(messages.S3_CREDENTIALS.format(where=where, code=code, uri=uri))
        return exc

    def _check_bucket(self, uri: Uri) -> None:
        """Refuse to write into a bucket that does not exist. Some S3-compatible stores
        create it on the first PUT; a typo in a bucket name should fail, not fork data."""
        if uri.bucket in self._known_buckets:
            return
        try:
            self.client.head_bucket(Bucket=uri.bucket)
        except Exception as exc:
            err = self._translate(exc, uri)
            if isinstance(err, NotFound) or "404" in str(exc):
                where = f" at {self.endpoint_url}" if self.endpoint_url else ""
                raise NotFound(messages.NO_BUCKET.format(bucket=uri.bucket, where=where)
                               ) from None
            raise err from None
        self._known_buckets.add(uri.bucket)

    def put_file(self, local: Path, uri: Uri) -> str:
        digest = sha256_file(local)
        self._check_bucket(uri)
        try:
            self.client.upload_file(str(local), uri.bucket, uri.key, Config=self.transfer,
                                    ExtraArgs={"Metadata": {"sha256": digest}})
        except Exception as exc:
            raise self._translate(exc, uri) from None
        return digest

    def get_file(self, uri: Uri, local: Path) -> str:
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            head = self.client.head_object(Bucket=uri.bucket, Key=uri.key)
            self.client.download_file(uri.bucket, uri.key, str(local), Config=self.transfer)
        except Exception as exc:
            raise self._translate(exc, uri) from None
        digest = sha256_file(local)
        _verify(uri, head.get("Metadata", {}).get("sha256"), digest)
        return digest

    def exists(self, uri: Uri) -> bool:
        try:
            self.client.head_object(Bucket=uri.bucket, Key=uri.key)
            return True
        except Exception as exc:
            err = self._translate(exc, uri)
            if isinstance(err, NotFound) and "Bucket" not in str(err):
                return False
            raise err from None

    def size(self, uri: Uri) -> int:
        try:
            return int(self.client.head_object(Bucket=uri.bucket, Key=uri.key)["ContentLength"])
        except Exception as exc:
            raise self._translate(exc, uri) from None

    def list(self, uri: Uri) -> list[str]:
        prefix = uri.key.rstrip("/") + "/" if uri.key else ""
        out: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=uri.bucket, Prefix=prefix):
                out.extend(o["Key"][len(prefix):] for o in page.get("Contents", []))
        except Exception as exc:
            raise self._translate(exc, uri) from None
        return sorted(out)

    def delete(self, uri: Uri) -> None:
        keys = [uri.key] + [f"{uri.key.rstrip('/')}/{k}" for k in self.list(uri)]
        try:
            for key in keys:
                self.client.delete_object(Bucket=uri.bucket, Key=key)
        except Exception as exc:
            raise self._translate(exc, uri) from None
