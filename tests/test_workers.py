"""`codestand serve --workers N`: several processes on one SQLite file, and what is refused at start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import threading
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest

from tests.live import (
    LASTING_PROMOTION,
    Server,
    all_codes,
    all_groups,
    codes_body,
    counters_that_disagree,
    cpu_seconds,
    half_written_groups,
    moltin_headers,
    run_cli,
    ti_group,
    ti_headers,
)

CLIENTS = 8
PROC = Path("/proc/self/stat").exists()


def test_memory_with_several_workers_is_refused():
    result = run_cli("serve", "--workers", "2", "--port", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("codestand: --workers 2 needs a store the workers share")
    assert "each worker would have its own memory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--storage", "sqlite:"], "argument --storage: 'sqlite:' is not a storage: use 'memory', 'sqlite:PATH' or 'postgresql://USER:PASSWORD@HOST:PORT/DB'"),
        (["--workers", "0"], "argument --workers: '0' is not a number of worker processes (1 or more)"),
    ],
)
def test_flags_that_name_nothing_are_usage_errors(args, message):
    result = run_cli("serve", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_file_that_is_not_sqlite_is_refused_at_start_and_left_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a database\n" * 100)
    result = run_cli("serve", "--storage", f"sqlite:{path}", "--workers", "2", "--port", "1")
    assert result.returncode == 1
    assert result.stderr == f"codestand: storage file {path} is not a SQLite database; it is left untouched: choose another path\n"
    assert path.read_bytes() == b"not a database\n" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _listening_sockets(port: int) -> set[int]:
    """Inodes of the sockets listening on `port` (Linux: /proc/net/tcp, state 0A)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(fields[9]))
    return inodes


def _sockets_of(pid: int) -> set[int]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(int(target[len("socket:[") : -1]))
    return found


@pytest.mark.skipif(not PROC, reason="reads /proc (Linux), where workers listen on sockets of their own")
def test_each_worker_listens_on_a_socket_of_its_own_and_the_parent_on_none(tmp_path):
    with Server(tmp_path / "server.log", "--storage", f"sqlite:{tmp_path / 'w.sqlite'}", "--workers", "3", "--quiet") as server:
        workers = server.settled_workers(3)
        listening = _listening_sockets(server.port)
        owners = {pid: _sockets_of(pid) & listening for pid in workers}
        parent = _sockets_of(server.process.pid) & listening
    assert len(listening) == 3, listening
    assert sorted(len(own) for own in owners.values()) == [1, 1, 1], owners
    assert set().union(*owners.values()) == listening  # three sockets, one each
    assert parent == set()  # it only holds the port: a listener nobody accepts on would take a share


@pytest.mark.skipif(not PROC, reason="reads each worker's CPU time from /proc (Linux)")
def test_clients_that_connect_at_once_are_spread_over_the_workers(tmp_path):
    """32 keep-alive clients connecting together: on one shared socket the first worker to wake
    took all of them and the other served nothing."""
    with Server(tmp_path / "server.log", "--storage", f"sqlite:{tmp_path / 'w.sqlite'}", "--workers", "2", "--quiet") as server:
        idle = server.settled_workers(2)

        async def clients() -> list[int]:
            limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:

                async def client(n: int) -> list[int]:
                    return [(await http.get("/incoming/v2/ping", headers=ti_headers(f"spread-{n}"))).status_code for _ in range(20)]

                return [status for statuses in await asyncio.gather(*(client(n) for n in range(32))) for status in statuses]

        statuses = asyncio.run(clients())
        used = {pid: cpu_seconds(pid) - idle[pid] for pid in idle}
    assert statuses == [200] * 640
    # Each connection lands on one worker by a hash of its address: a worker gets 16 of 32 on
    # average, fewer than 5 about once in 100,000 runs; 1/8 of the CPU is about 4 connections.
    assert min(used.values()) >= sum(used.values()) / 8, used


def test_a_worker_that_cannot_listen_stops_the_server_rather_than_restart_forever(capsys):
    """The port taken by another program between the parent's bind and a worker's own: the
    worker exits as a failed start, which makes uvicorn's supervisor stop instead of retrying."""
    from uvicorn.config import STARTUP_FAILURE

    from codestand.workers import listen_on

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()  # without SO_REUSEPORT: nobody may join it
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            listen_on(socket.AF_INET, ("127.0.0.1", port))
    assert stopped.value.code == STARTUP_FAILURE
    assert capsys.readouterr().err == f"codestand: a worker cannot listen on port {port}: Address already in use\n"


def _in_threads(work, count: int = CLIENTS) -> None:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # reported below, with the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_many_clients_over_three_workers_never_duplicate_a_code(tmp_path):
    """Groups of short codes and promotion codes created at once, through three processes."""
    path = tmp_path / "race.sqlite"
    with Server(tmp_path / "server.log", "--storage", f"sqlite:{path}", "--workers", "3", "--quiet") as server:
        # Where /proc tells CPU time (Linux), check that the work did spread over the workers.
        idle = server.settled_workers(3) if PROC else {}
        created: dict[str, int] = {}
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        # Thought Industries: 4-character codes (1.7 million of them), so concurrent groups do
        # draw the same codes now and then and the store must refuse all but one.
        def create_groups(n: int) -> None:
            for k in range(6):
                # A connection a request: the kernel picks a worker per connection, so many of
                # them spread over the workers however fast each request is served.
                with server.client() as http:
                    response = http.post("/incoming/v2/redemptionCodes", headers=ti_headers("race-key"), json=ti_group(f"{n}-{k}", 500, 4))
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        created[response.json()["id"]] = response.json()["totalCodesCount"]

        _in_threads(create_groups)
        if PROC:
            busy = {pid: cpu_seconds(pid) for pid in server.workers()}
            assert sum(1 for pid in idle if busy.get(pid, 0) - idle[pid] >= 0.02) >= 2, (idle, busy)

        # Moltin: every client offers the same code strings, one at a time and in overlapping
        # batches of three; each code may be won by one request only.
        with server.client() as http:
            headers = moltin_headers(http, "race-store")
            promotions = [http.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION).json()["data"]["id"] for _ in range(4)]
        singles: dict[str, list[int]] = defaultdict(list)
        batches_won: list[tuple[str, tuple[str, ...]]] = []

        def add_codes(n: int) -> None:
            promotion = promotions[n % len(promotions)]
            starts = list(range(0, 30))
            random.Random(n).shuffle(starts)
            with server.client() as http:
                for k, start in enumerate(starts):
                    single = f"SINGLE-{k}"
                    batch = tuple(f"BATCH-{start + i}" for i in range(3))
                    for codes in ((single,), batch):
                        response = http.post(f"/v2/promotions/{promotion}/codes", headers=headers, json=codes_body(*codes))
                        assert response.status_code in (201, 409), response.text
                        with lock:
                            if len(codes) == 1:
                                singles[single].append(response.status_code)
                            elif response.status_code == 201:
                                batches_won.append((promotion, codes))

        _in_threads(add_codes)

        with server.client() as http:
            groups = all_groups(http, "race-key")
            stored = {p: all_codes(http, headers, p) for p in promotions}

    assert statuses[201] == len(created) > 0
    assert set(statuses) <= {201, 409}, statuses  # 409: a group that lost the race five times
    assert {g["id"]: g["totalCodesCount"] for g in groups} == created
    assert half_written_groups(path) == []
    assert counters_that_disagree(path) == []

    assert all(sorted(outcomes) == [201] + [409] * (CLIENTS - 1) for outcomes in singles.values()), singles
    won = [code for _, codes in batches_won for code in codes]
    assert len(won) == len(set(won)), "a code was won by two batches"
    everywhere = [code for codes in stored.values() for code in codes]
    assert len(everywhere) == len(set(everywhere))
    assert sorted(everywhere) == sorted(won + list(singles))
    for promotion, codes in batches_won:
        assert set(codes) <= set(stored[promotion])
