"""Where Ray keeps its temp files for this installation, and why that place must be short.

Ray puts its Unix sockets under its temp dir, at
`<temp dir>/session_<date>_<time>_<micros>_<pid>/sockets/dash_TaskEventsHead`, and a
socket path cannot exceed 107 bytes (103 on macOS). So the temp dir gets at most
`MAX_TEMP_DIR_BYTES` of it: any longer and `ray start` fails deep in its dashboard's log.
A checkout can be anywhere (long paths, spaces), so the temp dir never lives in it: it is
`<base>/ray-<hash of FLEET_HOME>`, one per installation (two installations side by side
must not share one: Ray's job supervisor finds "its" cluster through a file there), under
a short base (`RAY_TMPDIR` if set, else `TMPDIR` if it is short enough, else /tmp).

`check_temp_dir` says so, with the fix, before Ray is started. A space in the checkout's
path has a cost of its own: see `python_for_ray`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

from fleet import messages
from fleet.errors import Unavailable

SOCKET_PATH_MAX = (103 if sys.platform == "darwin" else 107)
# The longest path Ray makes under its temp dir for a socket (a 7-digit pid, Ray 2.x's
# longest dashboard module name).
LONGEST_SOCKET_SUFFIX = "/session_2026-12-06_22-01-55_123456_4194304/sockets/dash_TaskEventsHead"
MAX_TEMP_DIR_BYTES = SOCKET_PATH_MAX - len(LONGEST_SOCKET_SUFFIX)
_DIR_PREFIX = "ray-"  # + 8 hex digits
_BASE_MAX = MAX_TEMP_DIR_BYTES - len(_DIR_PREFIX) - 9


def _digest(key) -> str:
    """8 hex digits naming `key` (a FLEET_HOME, a checkout): short, stable, distinct."""
    return hashlib.sha256(str(key).encode()).hexdigest()[:8]


def _short_enough(base: str) -> bool:
    return len(base.rstrip("/").encode()) <= _BASE_MAX


def temp_base() -> str:
    """The folder Ray's temp dirs go under: RAY_TMPDIR as given (checked later, so a
    too-long one is named), else TMPDIR when it leaves room for the sockets, else /tmp."""
    explicit = os.environ.get("RAY_TMPDIR")
    if explicit:
        return explicit
    tmpdir = os.environ.get("TMPDIR")
    if tmpdir and _short_enough(tmpdir):
        return tmpdir
    return "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()


def temp_dir(settings_or_home) -> str:
    """This installation's own Ray temp dir: `<base>/ray-<8 hex digits of FLEET_HOME>`."""
    home = (settings_or_home if isinstance(settings_or_home, str | os.PathLike)
            else settings_or_home.home)
    return os.path.join(temp_base(), f"{_DIR_PREFIX}{_digest(home)}")


def check_temp_dir(path: str) -> None:
    """Unavailable, naming the path, its length and what to set, if Ray's sockets under
    `path` would exceed the kernel's limit."""
    length = len(path.encode())
    if length > MAX_TEMP_DIR_BYTES:
        raise Unavailable(messages.RAY_TMPDIR_TOO_LONG.format(
            path=path, length=length, limit=MAX_TEMP_DIR_BYTES,
            base_limit=_BASE_MAX, socket_max=SOCKET_PATH_MAX))


def python_for_ray() -> str:
    """This interpreter, by a path Ray can use. Ray starts every worker through
    `bash -c` with the interpreter's path unquoted, and puts jemalloc's path (inside the
    virtualenv) in LD_PRELOAD, which splits at spaces: from a virtualenv whose path holds
    a space, every worker failed ("bash: /tmp/my: No such file or directory"). Then this
    is the same interpreter reached through a link to the virtualenv at a short path with
    no space (`/tmp/fleet-py-<hash>`), where Python still finds the virtualenv."""
    exe = sys.executable
    if " " not in exe and " " not in sys.prefix:
        return exe
    link = short_dir("py", sys.prefix)
    if os.path.realpath(link) != os.path.realpath(sys.prefix):
        fresh = f"{link}.{os.getpid()}"
        os.symlink(sys.prefix, fresh)
        os.replace(fresh, link)  # atomic: two `fleet up`s at once both end with the link
    return os.path.join(link, os.path.relpath(exe, sys.prefix))


def ray_command(*args: str) -> list[str]:
    """The `ray` CLI with `args`, run by `python_for_ray()` (its console script would run
    the interpreter by its own path again)."""
    return [python_for_ray(), "-m", "ray.scripts.scripts", *args]


def short_dir(tag: str, key: str | Path) -> str:
    """A short, stable folder for a tool that runs its own installations (the tests, the
    benches): `/tmp/fleet-<tag>-<8 hex digits of key>`, e.g. one per checkout."""
    return f"/tmp/fleet-{tag}-{_digest(key)}"


__all__ = ["MAX_TEMP_DIR_BYTES", "check_temp_dir", "python_for_ray", "ray_command",
           "short_dir", "temp_base", "temp_dir"]
