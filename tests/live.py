"""A real `codestand serve` process on a free port, for tests that need one."""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(*args: str, env: dict[str, str] | None = None, timeout: float = 20.0) -> Iterator[str]:
    """Start the server, wait until it answers, yield its base URL; always stop it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "codestand", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"codestand exited with {process.returncode}: {process.stderr.read().decode()}")
            try:
                httpx.get(f"{base}/openapi.json", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("codestand did not answer in time") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
