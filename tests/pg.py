"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a temporary folder,
a free port on 127.0.0.1, started once per test session and removed after it.

We run as root on CI, and PostgreSQL refuses to run as root: `initdb` and `pg_ctl` then run as
the `postgres` user (made by Debian's package), in a folder that user owns. The cluster asks a
password for TCP connections (scram-sha-256), as a real deployment would, so the tests see
that the password never shows. Nothing here needs the system's own cluster (never started).

`CI=true` and no server installed is a failure, not a skip: no PostgreSQL test may be skipped
in CI (.ci/run installs the `postgresql` package).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER, PASSWORD = "codestand", "pg-Secret-7f3a9c"


def binaries() -> Path | None:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def require() -> None:
    """Skip the calling test without a server installed; with CI=true, fail it instead."""
    import pytest

    if binaries() is None:
        message = "no PostgreSQL server installed (Debian: apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the PostgreSQL tests")
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, *, fsync: bool = False) -> None:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server installed (Debian: apt-get install postgresql)")
        self.bin = bin_dir
        self.fsync = fsync
        self.root = Path(tempfile.mkdtemp(prefix="codestand-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL will not run as root; its own user owns the folder instead.
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> str:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self) -> Cluster:
        secret = self.root / "pwfile"
        secret.write_text(PASSWORD + "\n")
        if self._as:
            shutil.chown(secret, "postgres")
        if not self.data.exists():
            self._run(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={secret}", "-E", "UTF8",
                "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
            )  # fmt: skip
        self._ctl("start", "-w", "-t", "60", "-l", str(self.root / "server.log"), "-o", self._options())
        return self

    def _options(self) -> str:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=300"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return options

    def _ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-w", "-m", mode)

    def restart(self) -> None:
        self._ctl("restart", "-w", "-m", "fast", "-l", str(self.root / "server.log"), "-o", self._options())

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def admin(self, statement: str, database: str = "postgres") -> None:
        """One statement as the cluster's superuser, over its socket (no password)."""
        import psycopg

        with psycopg.connect(host=str(self.root), port=self.port, user=USER, dbname=database, autocommit=True) as db:
            db.execute(statement)

    def query(self, statement: str, database: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(host=str(self.root), port=self.port, user=USER, dbname=database, autocommit=True) as db:
            return db.execute(statement, params).fetchall()

    def create_database(self, name: str) -> str:
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text(errors="replace")
        return ""

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
