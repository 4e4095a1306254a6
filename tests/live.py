"""`codestand serve` as a real child process on a free port, for tests that need a real server.

One helper for every such test: the CLI's, Schemathesis', the SDK's, and those of workers,
restarts, crashes, load and faults.

- The server's stderr goes to a file (a pipe could fill up and block it).
- It runs in a session (process group) of its own, so that a test can kill it and its worker
  processes at once (`crash()`: SIGKILL to the group, as a crash would), and so that whatever
  a test leaves running is killed whole by `close()` (also on leaving a `with` block).
- `stop()` sends a signal, as a service manager does, and waits for the exit status.
- `workers()`, `pids()` and `rss_kib()` read /proc (Linux) to find the worker processes and
  what memory the server holds.

At the end: small vendor clients, and what a SQLite file holds, read past the server.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.samples import COURSE

ROOT = Path(__file__).resolve().parent.parent
ACCESS_LINE = re.compile(
    r"^\S+ \S+ codestand\.access (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms$"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any CODESTAND_* setting, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CODESTAND_")}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """`codestand ARGS` to completion (for invocations that must exit by themselves)."""
    return subprocess.run(
        [sys.executable, "-m", "codestand", *args],
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Server:
    def __init__(
        self,
        log_path: Path,
        *args: str,
        port: int | None = None,
        env: dict[str, str] | None = None,
        prefix: tuple[str, ...] = (),
        log_through_pipe: bool = False,
    ) -> None:
        """`codestand serve ARGS`; the port goes on the command line unless `env` names one.

        `prefix`: a command the server runs under, e.g. `("unshare", "-m", ...)`, which must
        exec the server in its own process. `log_through_pipe`: the server writes its stderr
        to a pipe and a thread of this process copies it to the log file, for a test that
        makes the server's own file writes fail.
        """
        self.env = env if env is not None else clean_env()
        self.port = port or int(self.env.get("CODESTAND_PORT") or 0) or free_port()
        self.args = list(args)
        if "CODESTAND_PORT" not in self.env:
            self.args = ["--port", str(self.port), *self.args]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.prefix = prefix
        self.log_through_pipe = log_through_pipe
        self._copier: threading.Thread | None = None
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        """Start the server and wait until it answers (workers take a while on a busy machine)."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "codestand", "serve", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE if self.log_through_pipe else log,
                env=self.env,
                start_new_session=True,
            )
        if self.log_through_pipe:
            self._copier = threading.Thread(target=self._copy_log, args=(self.process.stderr,), daemon=True)
            self._copier.start()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"codestand exited with {self.process.returncode}:\n{self.log()}")
            try:
                # Any answer will do; the spec's route is not a vendor call, so the journal
                # does not record it.
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"codestand did not answer within {timeout} s:\n{self.log()}") from None
                time.sleep(0.05)

    def _copy_log(self, pipe: Any) -> None:
        with pipe, open(self.log_path, "ab", buffering=0) as log:
            for chunk in iter(lambda: pipe.read1(65536), b""):
                log.write(chunk)

    def log(self) -> str:
        if self._copier is not None and self.process is not None and self.process.poll() is not None:
            self._copier.join(5)  # the server is gone: wait for its last lines
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def access_lines(self) -> list[str]:
        return [line for line in self.log().splitlines() if " codestand.access " in line]

    def wait_for_access_lines(self, count: int, timeout: float = 5) -> list[str]:
        """The access log, once it has at least `count` lines (a line is written as the answer goes out)."""
        deadline = time.monotonic() + timeout
        while len(lines := self.access_lines()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return lines

    def client(self, **options: Any) -> httpx.Client:
        """A client that opens a connection per request, so that the requests of one client reach
        every worker (the kernel hands each new connection to one of them). One client per
        thread: making one costs tens of milliseconds (its TLS context), more than a request."""
        options.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, limits=httpx.Limits(max_keepalive_connections=0), **options)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send `sig` and wait for the exit status (killing the server if it does not exit)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError(f"codestand did not exit within {timeout} s of signal {sig}") from None

    def crash(self) -> None:
        """SIGKILL to the server and its workers at once: nothing gets to clean up."""
        assert self.process is not None
        self._kill_group()
        self.process.wait(10)

    def close(self) -> None:
        """Kill the server and its workers, if still running."""
        if self.process is not None and self.process.poll() is None:
            self._kill_group()
            self.process.wait()

    def _kill_group(self) -> None:
        # Only while the server is not yet reaped: its pid, the group's id, is then still ours.
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def workers(self) -> list[int]:
        """Process ids of the worker processes (Linux: read from /proc)."""
        assert self.process is not None
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if parent == self.process.pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
        return found

    def settled_workers(self, count: int) -> dict[int, float]:
        """Wait until `count` workers exist and have finished starting (their CPU time stops
        moving, so each is listening); their CPU seconds by process id."""
        before: dict[int, float] = {}
        for _ in range(100):
            now = {pid: cpu_seconds(pid) for pid in self.workers()}
            if len(now) == count and now == before:
                return now
            before = now
            time.sleep(0.25)
        raise AssertionError(f"workers did not settle: {before}")

    def pids(self) -> list[int]:
        """The server's process and its workers'."""
        assert self.process is not None
        return [self.process.pid, *self.workers()]

    def rss_kib(self) -> int:
        """Resident memory of the server and its workers together, in KiB (VmRSS)."""
        return sum(rss_kib(pid) for pid in self.pids())

    def __enter__(self) -> Server:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def rss_kib(pid: int) -> int:
    """A process's resident memory in KiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


@contextlib.contextmanager
def serving(*args: str) -> Iterator[str]:
    """A server for the length of a `with` block; yields its base URL."""
    with tempfile.TemporaryDirectory() as folder, Server(Path(folder) / "serve.log", *args) as server:
        yield server.url


# Small vendor clients --------------------------------------------------------------------

# A promotion that lasts, so that its codes can be used whenever a test runs.
LASTING_PROMOTION = {
    "data": {
        "type": "promotion",
        "name": "Ten off",
        "description": "ten off",
        "enabled": True,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 1000}]},
        "start": "2020-01-01",
        "end": "2099-01-01",
    }
}


def ti_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ti_group(label: str, count: int, length: int) -> dict:
    return {"label": label, "codeLength": length, "totalCodesCount": count, "courses": [COURSE]}


def moltin_headers(http: httpx.Client, client_id: str) -> dict[str, str]:
    token = http.post(
        "/oauth/access_token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "secret"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def codes_body(*codes: str) -> dict:
    return {"data": {"type": "promotion_codes", "codes": [{"code": c} for c in codes]}}


def all_groups(http: httpx.Client, key: str) -> list[dict]:
    """Every group of the key, following the list's cursor."""
    groups, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = http.get("/incoming/v2/redemptionCodes", headers=ti_headers(key), params=params).json()
        groups += page["redemptionCodeGroups"]
        cursor = page["pageInfo"]["cursor"]
        if not cursor:
            return groups


def all_codes(http: httpx.Client, headers: dict[str, str], promotion_id: str) -> list[str]:
    """Every code of a promotion, following the list's pages."""
    codes: list[str] = []
    while True:
        page = http.get(
            f"/v2/promotions/{promotion_id}/codes", headers=headers, params={"page[limit]": 100, "page[offset]": len(codes)}
        ).json()
        codes += [c["code"] for c in page["data"]]
        if len(codes) >= page["meta"]["results"]["total"]:
            return codes


# What the file holds, read past the server --------------------------------------------------


def half_written_groups(path: Path) -> list[tuple[str, int, int]]:
    """Groups whose stored codes are not `totalCodesCount` codes of their length: should be none."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(
            """SELECT g.id, g.total_codes, count(c.code) FROM redemption_groups g
               LEFT JOIN redemption_codes c ON c.tenant = g.tenant AND c.group_seq = g.seq AND length(c.code) = g.code_length
               GROUP BY g.seq HAVING count(c.code) != g.total_codes"""
        ).fetchall()
    finally:
        db.close()


def counters_that_disagree(path: Path) -> list[tuple]:
    """Code counts per tenant and length that differ from the codes stored: should be none."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(
            """SELECT l.tenant, l.length, l.codes, (SELECT count(*) FROM redemption_codes c
                   WHERE c.tenant = l.tenant AND length(c.code) = l.length) AS stored
               FROM code_lengths l WHERE l.codes != stored"""
        ).fetchall()
    finally:
        db.close()
