"""Which locations a request may read or write.

A request names data by path or URI (`validate_data.path`, `batch_infer.output`, ...), and
the worker that follows it can read anything its OS user can: fleet.yaml with every token,
`~/.ray/auth_token`, /etc/passwd. So a location that comes from a request is checked here
before anything is opened: it must resolve (symlinks and `..` included) inside the artifact
root or one of `data_roots`, and never into Fleet's own files (config, logs, run files, the
SQLite store) or Ray's (`~/.ray`, the Ray temp dirs), even when a root contains them.

Function authors opt a field in by its type:

    class Req(BaseModel):
        path: ReadLocation          # checked when the gateway validates, and again in the worker
        output: WriteLocation

The refusal is a 403 problem that names the allowed roots and never the content.
The check runs both when the gateway validates the payload (so nothing is recorded or run)
and when the worker validates it again just before the function opens it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from fleet import messages
from fleet.artifacts.uris import Uri, parse, to_uri
from fleet.config import Settings, load_settings
from fleet.errors import FieldProblem, Forbidden, InvalidInput
from fleet.ray_paths import temp_base, temp_dir


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _real(path: str | Path) -> Path:
    """The absolute path with every symlink that exists resolved, `..` folded."""
    return Path(os.path.abspath(os.path.expanduser(str(path)))).resolve()


class DataAccess:
    """The roots of one installation, and the places that stay private inside them."""

    def __init__(self, settings: Settings) -> None:
        self.home = _real(settings.home)
        roots = [parse(to_uri(r)) for r in (settings.artifact_root,
                                            *settings.resolved_data_roots)]
        self.roots = roots
        self._file_roots = [_real(r.key) for r in roots if r.scheme == "file"]
        self._s3_roots = [(r.bucket, r.key.strip("/")) for r in roots if r.scheme == "s3"]
        never = [self.home / "fleet.yaml", self.home / "logs", self.home / "run",
                 _real("~/.ray"), _real(temp_dir(settings)),
                 _real(os.path.join(temp_base(), "ray"))]
        store = settings.resolved_store_url
        if store.startswith("sqlite:///"):
            db = _real(store.removeprefix("sqlite:///"))
            never += [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"),
                      db.with_name(db.name + "-journal"),
                      db.with_name(db.name + ".writers")]  # fleet.store.writer_turn
        self._never = never

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.roots)

    def allows(self, path: Path) -> bool:
        """Whether a request may touch the file at `path` (already resolved): inside a
        root, never one of Fleet's or Ray's own files."""
        if any(_within(path, p) for p in self._never):
            return False
        roots = [r for r in self._file_roots if _within(path, r)]
        if _within(path, self.home):  # inside FLEET_HOME only through a root inside it
            roots = [r for r in roots if _within(r, self.home) and r != self.home]
        return bool(roots)

    def check(self, value: str, *, field: str, write: bool = False) -> str:
        """The location as a canonical URI, or Forbidden if a request may not use it.

        A folder is checked whole: every link under it (followed as a reader of the folder
        would) must lead inside the roots too, or one planted link would hand a request
        the admin token or let a write land outside."""
        verb = "write" if write else "read"
        try:
            u = parse(to_uri(value))
        except InvalidInput as exc:  # the same problem, under the request's field name
            raise InvalidInput(exc.detail, [FieldProblem(field, p.message, p.fix)
                                            for p in exc.errors]) from None
        if u.scheme == "s3":
            return self._check_s3(u, value, field, verb)
        path = _real(u.key)
        if any(_within(path, p) for p in self._never):
            raise self._refuse(messages.PATH_PRIVATE, field, verb, value)
        if not self.allows(path):
            raise self._refuse(messages.PATH_OUTSIDE_ROOTS, field, verb, value)
        for link in self._links_out(path):
            raise self._refuse(messages.PATH_LINK_OUTSIDE, field, verb, value,
                               entry=os.path.relpath(link, path))
        return path.as_uri()

    def _links_out(self, top: Path) -> Iterator[str]:
        """Every entry under the folder `top` that a request may not touch: a link whose
        target is outside the roots or private, or one of Fleet's or Ray's own files (a
        root may contain FLEET_HOME or Ray's temp dirs). Links to folders inside the roots
        are walked too, each real folder once."""
        if not top.is_dir():
            return
        seen = {top}
        pending = [top]
        while pending:
            folder = pending.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue  # unreadable: nothing in it can be read through Fleet either
            for entry in entries:
                if entry.is_symlink():
                    real = Path(os.path.realpath(entry.path))
                    if not self.allows(real):
                        yield entry.path
                    elif real.is_dir() and real not in seen:
                        seen.add(real)
                        pending.append(real)
                elif not self.allows(Path(entry.path)):
                    yield entry.path
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))

    def opened_allowed(self, fd: int) -> bool:
        """Whether what the descriptor `fd` really opened may be read by a request: the
        check of the file itself, after the open, so a link swapped in between the check
        of its folder and the read is caught (Linux: /proc/self/fd)."""
        proc = f"/proc/self/fd/{fd}"
        if not os.path.exists(proc):
            return True  # no /proc: the folder check before the read is what there is
        return self.allows(Path(os.readlink(proc)))

    def _check_s3(self, u: Uri, value: str, field: str, verb: str) -> str:
        parts = [p for p in u.key.split("/") if p]
        if ".." in parts or "." in parts:
            raise InvalidInput(messages.PATH_BAD_KEY.format(field=field, value=value),
                               [FieldProblem(field, "'..' in an S3 key", "Name the key.")])
        key = "/".join(parts)
        for bucket, prefix in self._s3_roots:
            if u.bucket == bucket and (not prefix or key == prefix
                                       or key.startswith(prefix + "/")):
                return str(Uri("s3", u.bucket, u.key))
        raise self._refuse(messages.PATH_OUTSIDE_ROOTS, field, verb, value)

    def _refuse(self, template: str, field: str, verb: str, value: str,
                entry: str = "") -> Forbidden:
        detail = template.format(field=field, verb=verb, value=value, roots=self.describe(),
                                 entry=entry)
        return Forbidden(detail, [FieldProblem(
            field, f"outside the allowed data roots: {self.describe()}",
            "Use a location under one of the allowed roots.")])


_cache: dict[int, tuple[Settings, DataAccess]] = {}


def data_access(settings: Settings | None = None) -> DataAccess:
    """The DataAccess of these settings (by default this process's), built once."""
    settings = settings or load_settings()
    hit = _cache.get(id(settings))
    if hit is None or hit[0] is not settings:
        hit = (settings, DataAccess(settings))
        _cache[id(settings)] = hit
    return hit[1]


FORBIDDEN = "location_forbidden"  # the pydantic error type of a refused location


def _checked(value: str, info: ValidationInfo, write: bool) -> str:
    """As a pydantic error, so a refusal is reported with the payload's other problems;
    `validate_payload` answers 403 when refusals are all there is."""
    try:
        return data_access().check(value, field=info.field_name or "path", write=write)
    except Forbidden as exc:
        raise PydanticCustomError(FORBIDDEN, "{detail}", {"detail": exc.detail}) from None
    except InvalidInput as exc:
        raise PydanticCustomError("location_invalid", "{detail}", {"detail": exc.detail}
                                  ) from None


def _read(value: str, info: ValidationInfo) -> str:
    return _checked(value, info, write=False)


def _write(value: str, info: ValidationInfo) -> str:
    return _checked(value, info, write=True)


ReadLocation = Annotated[str, AfterValidator(_read)]
WriteLocation = Annotated[str, AfterValidator(_write)]
