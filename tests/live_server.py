"""`codestand serve` as a real child process, for tests of workers, restarts and crashes.

The server runs in a session of its own, so that a test can kill it and its workers at once
(SIGKILL to the process group), as a crash would; it is always killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"  # a course of the shipped seed
PROMOTION = {
    "type": "promotion",
    "name": "Ten off",
    "description": "ten off",
    "enabled": True,
    "promotion_type": "fixed_discount",
    "schema": {"currencies": [{"currency": "USD", "amount": 1000}]},
    "start": "2020-01-01",
    "end": "2099-01-01",
}


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def crash(self) -> None:
        """SIGKILL to the server and its workers at once: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def workers(self) -> list[int]:
        """Process ids of the worker processes (Linux: read from /proc)."""
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


def client(server: Server) -> httpx.Client:
    """A client that opens a connection per request, so that the requests of one client reach
    every worker (the kernel hands each new connection to one of them). One client per thread:
    making one costs tens of milliseconds (its TLS context), more than a request here."""
    return httpx.Client(base_url=server.url, limits=httpx.Limits(max_keepalive_connections=0), timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """`codestand ARGS` to its end, for what it refuses at start."""
    return subprocess.run([sys.executable, "-m", "codestand", *args], capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def serving(storage: str, log: Path, *, workers: int = 1, port: int | None = None, ready_within: float = 60) -> Iterator[Server]:
    """A server on `storage`, answering once this enters; killed, if still running, when it leaves."""
    port = port or free_port()
    command = [sys.executable, "-m", "codestand", "serve", "--port", str(port), "--storage", storage, "--workers", str(workers), "--quiet"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_answering(server, ready_within)
        yield server
    finally:
        if process.poll() is None:
            server.crash()


def _wait_until_answering(server: Server, within: float) -> None:
    deadline = time.monotonic() + within
    with client(server) as probe:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise AssertionError(f"codestand exited with {server.process.returncode}:\n{server.log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if probe.get("/incoming/v2/ping", headers={"Authorization": "Bearer ready"}).status_code == 200:
                    return
            time.sleep(0.05)
    raise AssertionError(f"codestand did not answer within {within}s:\n{server.log.read_text()}")


# Small vendor clients --------------------------------------------------------------------


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
