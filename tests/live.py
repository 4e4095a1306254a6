"""`codestand serve` as a real subprocess on a free port, for tests that need a real server.

The server's stderr goes to a file (a pipe could fill up and block it); `stop()` sends a signal
and waits, and `close()` kills whatever is still running, so a failing test never leaves a
server behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import tempfile
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

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
    def __init__(self, log_path: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None) -> None:
        """`codestand serve ARGS`; the port goes on the command line unless `env` names one."""
        self.env = env if env is not None else clean_env()
        self.port = port or int(self.env.get("CODESTAND_PORT") or 0) or free_port()
        self.args = list(args)
        if "CODESTAND_PORT" not in self.env:
            self.args = ["--port", str(self.port), *self.args]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> Server:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "codestand", "serve", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=self.env,
            )
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

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def access_lines(self) -> list[str]:
        return [line for line in self.log().splitlines() if " codestand.access " in line]

    def wait_for_access_lines(self, count: int, timeout: float = 5) -> list[str]:
        """The access log, once it has at least `count` lines (a line is written as the answer goes out)."""
        deadline = time.monotonic() + timeout
        while len(lines := self.access_lines()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return lines

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Send `sig` and wait for the exit status (killing the server if it does not exit)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError(f"codestand did not exit within {timeout} s of signal {sig}") from None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def serving(*args: str) -> Iterator[str]:
    """A server for the length of a `with` block; yields its base URL."""
    with tempfile.TemporaryDirectory() as folder, Server(Path(folder) / "serve.log", *args) as server:
        yield server.url


_shared: dict[str, str] = {}


def shared_server() -> str:
    """One server for a whole test run, started on first use and stopped when Python exits.

    For tests that need a server before fixtures exist (Schemathesis builds its examples, and
    asks for credentials, while pytest collects).
    """
    if "base" not in _shared:
        running = serving("--quiet")
        _shared["base"] = running.__enter__()
        atexit.register(running.__exit__, None, None, None)
    return _shared["base"]
