"""Artifact URIs: file:///abs/path and s3://bucket/key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput

SCHEMES = ("file", "s3")


@dataclass(frozen=True)
class Uri:
    scheme: str
    bucket: str  # empty for file://
    key: str  # for file://, the absolute path

    def __str__(self) -> str:
        if self.scheme == "file":
            return Path(self.key).as_uri()
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    @property
    def path(self) -> Path:
        return Path(self.key)


def parse(uri: str) -> Uri:
    """Parse a URI; a bare absolute path is taken as file://."""
    if uri.startswith("/"):
        return Uri("file", "", uri)
    u = urlparse(uri)
    if u.scheme not in SCHEMES:
        raise InvalidInput(
            f"'{uri}' is not a supported artifact URI; use file:///abs/path or s3://bucket/key.",
            [FieldProblem("uri", f"scheme '{u.scheme}' unsupported", "Use file:// or s3://.")])
    if u.scheme == "file":
        if u.netloc:  # a host would be ignored, and the path read here instead
            raise InvalidInput(messages.URI_FILE_HOST.format(uri=uri, host=u.netloc), [
                FieldProblem("uri", f"file:// with a host ({u.netloc})",
                             "Use file:///abs/path (three slashes), or s3:// for remote data.")])
        return Uri("file", "", unquote(u.path))
    if not u.netloc:
        raise InvalidInput(messages.URI_NO_BUCKET.format(uri=uri),
                           [FieldProblem("uri", "missing bucket", "Use s3://bucket/key.")])
    return Uri("s3", u.netloc, u.path.lstrip("/"))


def to_uri(path_or_uri: str) -> str:
    """A URI as given, or a (relative, ~) local path as an absolute file:// URI."""
    if "://" in path_or_uri:
        return path_or_uri
    return Path(path_or_uri).expanduser().resolve().as_uri()


def join(base: str, *parts: str) -> str:
    u = parse(base)
    tail = "/".join(p.strip("/") for p in parts if p)
    if u.scheme == "file":
        return str(Uri("file", "", str(Path(u.key, tail)) if tail else u.key))
    key = "/".join(x for x in (u.key.rstrip("/"), tail) if x)
    return str(Uri("s3", u.bucket, key))
