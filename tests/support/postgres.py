"""A real PostgreSQL server for the store suite, started from Debian's binaries.

initdb refuses to run as root, so when the tests run as root the data directory belongs to
the `postgres` user and the server runs as that user. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def find_bin(name: str) -> str | None:
    for d in BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.initdb = find_bin("initdb")
        self.pg_ctl = find_bin("pg_ctl")
        self._as_user = None
        if os.geteuid() == 0:
            self._as_user = pwd.getpwnam("postgres")

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _run(self, args: list[str]) -> None:
        kwargs = {}
        if self._as_user is not None:
            uid, gid = self._as_user.pw_uid, self._as_user.pw_gid

            def demote() -> None:
                os.setgid(gid)
                os.setuid(uid)

            kwargs["preexec_fn"] = demote
        subprocess.run(args, check=True, capture_output=True, cwd="/", **kwargs)

    def start(self) -> str:
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        if self._as_user is not None:
            for p in (self.root,):
                os.chown(p, self._as_user.pw_uid, self._as_user.pw_gid)
            # the parents must be traversable by the postgres user
            for parent in self.root.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self._run([self.initdb, "-D", str(self.data), "-U", "fleet", "--auth=trust",
                   "-E", "UTF8", "--no-sync"])
        self._run([self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w",
                   # No Unix socket: its path (the checkout's, which may be long or hold a
                   # space) could pass the 107-byte limit; the tests connect over TCP.
                   "-o", f"-h 127.0.0.1 -p {self.port} -k '' -F", "start"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.2)
        return f"postgresql://fleet@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass


def create_database(base_url: str, prefix: str = "t") -> str:
    """A fresh, empty database on the server of `base_url`; its URL."""
    import uuid

    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + f"/{name}"
