"""Clients that misbehave on the wire, against a real server: they hang up in the middle of a
request or before reading the answer, send their request a byte at a time, read the answer
slowly, leave a connection idle. The server goes on serving everyone else, logs no error, and
what was cut off is stored whole or not at all.

What uvicorn (the HTTP server under codestand) does with slow clients, which these tests pin:

- It has no timeout for reading a request's headers or body: a client that keeps sending,
  however slowly, keeps its connection and gets its answer in the end. Each such connection
  costs a socket and a few KiB; the event loop does not wait for it, so others are served
  meanwhile. How many a server can hold is bounded by its open-file limit (`ulimit -n`).
- A client that does not read its answer fills the socket's buffers; uvicorn then pauses that
  one answer (flow control), not the loop.
- Between requests, a keep-alive connection is closed after `timeout_keep_alive` seconds idle.
  codestand sets 75 s (`settings.KEEP_ALIVE_SECONDS`) instead of uvicorn's 5 s: a client's pool
  must give up an idle connection before the server does, or a request sent just as the
  server closes it fails in transport; httpx gives up after 5 s, so with 5 s on both sides
  that race was lost now and then under load (tests/test_load.py saw it).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_STORES
from tests.live import (
    LASTING_PROMOTION,
    Server,
    codes_body,
    counters_that_disagree,
    half_written_groups,
    ti_group,
)

KEY = "misbehaving-key"
STORE = "misbehaving-store"


def _request(method: str, path: str, body: bytes = b"", content_type: str = "application/json", **headers: str) -> tuple[bytes, bytes]:
    """A request's head and body as bytes, for clients that send them in pieces."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body


def _hang_up(port: int, data: bytes, *, after: float = 0.0, reset: bool = False) -> None:
    """Send `data`, wait `after` seconds, and close without reading: a FIN, or a RST (a client
    that crashed) with `reset`."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        time.sleep(after)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# Hanging up mid-request -----------------------------------------------------------------


@pytest.mark.parametrize("backend", TEST_STORES)
def test_clients_that_hang_up_mid_request_leave_nothing_half_done(tmp_path: Path, backend: str, request):
    args = ["--storage", f"sqlite:{tmp_path / 'store.sqlite'}"] if backend == "sqlite" else []
    if backend == "postgresql":
        args = ["--storage", request.getfixturevalue("pg_database")]
    with Server(tmp_path / "server.log", *args) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        ti = {"Authorization": f"Bearer {KEY}"}
        token = http.post("/oauth/access_token", data={"grant_type": "client_credentials", "client_id": STORE, "client_secret": "s"})
        moltin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        promotions = [http.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION).json()["data"]["id"] for _ in range(7)]
        port = server.port

        # Cut off before the body is complete: no request was made, nothing is done.
        head, body = _request("POST", "/incoming/v2/redemptionCodes", json.dumps(ti_group("half", 10_000, 10)).encode(), **ti)
        _hang_up(port, head + body[: len(body) // 2], after=0.2)
        _hang_up(port, head, after=0.2, reset=True)
        batch = json.dumps(codes_body(*(f"HALF-{n}" for n in range(1000)))).encode()
        head, body = _request("POST", f"/v2/promotions/{promotions[0]}/codes", batch, **moltin)
        _hang_up(port, head + body[: len(body) // 2], after=0.2)
        # A form cut short still parses: as a request for another client, `abc`.
        head, body = _request(
            "POST", "/oauth/access_token", b"grant_type=implicit&client_id=abcdefgh", content_type="application/x-www-form-urlencoded"
        )
        _hang_up(port, head + body[: len(b"grant_type=implicit&client_id=abc")], after=0.2)

        # Whole requests, then gone before the answer, at various points of a 10,000-code group
        # or a batch of 1000 promotion codes being written: each is stored whole or not at all.
        for n, after in enumerate((0.0, 0.002, 0.005, 0.01, 0.02, 0.05)):
            head, body = _request("POST", "/incoming/v2/redemptionCodes", json.dumps(ti_group(f"gone-{n}", 10_000, 10)).encode(), **ti)
            _hang_up(port, head + body, after=after, reset=n % 2 == 1)
            batch = json.dumps(codes_body(*(f"GONE{n}-{i}" for i in range(1000)))).encode()
            head, body = _request("POST", f"/v2/promotions/{promotions[n + 1]}/codes", batch, **moltin)
            _hang_up(port, head + body, after=after, reset=n % 2 == 0)
        _hang_up(port, b"".join(_request("GET", "/incoming/v2/redemptionCodes", **ti)))

        # The server is still there, and every answer since is right.
        assert http.get("/__codestand/health").status_code == 200
        time.sleep(0.5)  # the last of the abandoned requests finish
        groups = http.get("/incoming/v2/redemptionCodes", headers=ti).json()["redemptionCodeGroups"]
        assert not [g for g in groups if not g["label"].startswith("gone-")]
        for group in groups:
            codes = http.get(f"/__codestand/tenants/{KEY}/redemption-code-groups/{group['id']}/codes").json()["codes"]
            assert group["totalCodesCount"] == len({c["code"] for c in codes}) == 10_000
        for n, promotion in enumerate(promotions):
            listed = http.get(f"/v2/promotions/{promotion}/codes", headers=moltin, params={"page[limit]": 1}).json()
            assert listed["meta"]["results"]["total"] in ((0, 1000) if n else (0,)), (n, listed["meta"])
        assert http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("after", 5, 8)).status_code == 201

        log = server.log()
        assert not [line for line in log.splitlines() if "Traceback" in line or " codestand.errors " in line or " uvicorn.error " in line], log

        # Requests whose client left before its body was complete were not answered, and are
        # journaled as such (no status); nothing was logged as an error.
        # (A reset can also arrive before the server has read a whole request: then that one
        # was cut off as well.)
        cut_off = Counter(e["path"] for e in http.get("/__codestand/journal").json()["entries"] if e["status"] is None)
        known = Counter(["/incoming/v2/redemptionCodes"] * 2 + [f"/v2/promotions/{promotions[0]}/codes", "/oauth/access_token"])
        assert cut_off >= known, cut_off
        assert set(cut_off) <= {"/incoming/v2/redemptionCodes", "/oauth/access_token", *(f"/v2/promotions/{p}/codes" for p in promotions)}
    if backend == "sqlite":
        assert half_written_groups(tmp_path / "store.sqlite") == []
        assert counters_that_disagree(tmp_path / "store.sqlite") == []


# Slow clients ---------------------------------------------------------------------------

DRIBBLE_EVERY = 0.2  # seconds between the bytes of a slow client
IDLE_FOR = 6.0  # longer than httpx's pool keeps a connection (5 s), and than uvicorn's default


async def _dribble(port: int, head: bytes, body: bytes, until: asyncio.Event) -> bytes:
    """Send the request a byte at a time until `until` is set, then the rest at once; the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = head + body
    sent = 0
    while not until.is_set() and sent < len(data) - 1:
        writer.write(data[sent : sent + 1])
        await writer.drain()
        sent += 1
        await asyncio.sleep(DRIBBLE_EVERY)
    writer.write(data[sent:])
    await writer.drain()
    answer = await _read_answer(reader)
    writer.close()
    return answer


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    return head + await reader.readexactly(length)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def _read_late(port: int, path: str, until: asyncio.Event) -> bytes:
    """Ask for a large answer and read none of it until `until` is set."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills after a few KiB
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(b"".join(_request("GET", path)))
    await writer.drain()
    await until.wait()
    answer = await _read_answer(reader)
    writer.close()
    return answer


async def _idle_then_again(port: int, headers: dict[str, str]) -> tuple[int, int]:
    """Two requests on one connection, `IDLE_FOR` seconds apart; both statuses."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"".join(_request("GET", "/incoming/v2/ping", **headers))
    writer.write(request)
    first = _status(await _read_answer(reader))
    await asyncio.sleep(IDLE_FOR)
    writer.write(request)
    try:
        second = _status(await _read_answer(reader))
    except (asyncio.IncompleteReadError, ConnectionError):
        second = 0  # closed by the server while idle
    writer.close()
    return first, second


async def _slow_and_quick(server: Server, export: str) -> dict:
    ti = {"Authorization": f"Bearer {KEY}"}
    done = asyncio.Event()
    header_dribblers = [
        asyncio.create_task(_dribble(server.port, *_request("GET", "/incoming/v2/ping", **ti), done)) for _ in range(16)
    ]
    body = json.dumps(ti_group("slow", 5, 8)).encode()
    body_dribblers = [
        asyncio.create_task(_dribble(server.port, _request("POST", "/incoming/v2/redemptionCodes", body, **ti)[0], body, done))
        for _ in range(4)
    ]
    late_readers = [asyncio.create_task(_read_late(server.port, export, done)) for _ in range(2)]
    idle = asyncio.create_task(_idle_then_again(server.port, ti))
    await asyncio.sleep(1)  # every slow client is connected and part-way through

    started = time.monotonic()
    statuses = []
    async with httpx.AsyncClient(base_url=server.url, headers=ti, timeout=30) as http:
        for n in range(20):
            statuses.append((await http.get("/incoming/v2/ping")).status_code)
            created = await http.post("/incoming/v2/redemptionCodes", json=ti_group(f"quick-{n}", 5, 8))
            statuses.append(created.status_code)
            statuses.append((await http.get(f"/incoming/v2/redemptionCodes/{created.json()['id']}")).status_code)
    quick = time.monotonic() - started
    still_sending = sum(not task.done() for task in header_dribblers + body_dribblers + late_readers)

    await idle  # at least IDLE_FOR seconds after it started
    done.set()
    return {
        "quick_statuses": statuses,
        "quick_seconds": quick,
        "still_sending": still_sending,
        "slow": [_status(a) for a in await asyncio.gather(*header_dribblers, *body_dribblers)],
        "late": await asyncio.gather(*late_readers),
        "idle": idle.result(),
    }


def test_slow_clients_do_not_hold_up_the_others_and_are_served_in_the_end(tmp_path: Path):
    with Server(tmp_path / "server.log", "--quiet") as server:
        ti = {"Authorization": f"Bearer {KEY}"}
        big = httpx.post(f"{server.url}/incoming/v2/redemptionCodes", headers=ti, json=ti_group("big", 10_000, 10)).json()["id"]
        export = f"/__codestand/tenants/{KEY}/redemption-code-groups/{big}/codes"
        outcome = asyncio.run(asyncio.wait_for(_slow_and_quick(server, export), 120))
        log = server.log()

    # 60 requests of a quick client were answered while 16 clients dribbled their headers, 4
    # their bodies, and 2 left large answers unread: none of these had finished meanwhile.
    assert outcome["quick_statuses"] == [200, 201, 200] * 20
    assert outcome["still_sending"] == 22, outcome
    # Then the slow ones were served as well.
    assert outcome["slow"] == [200] * 16 + [201] * 4
    for answer in outcome["late"]:
        assert _status(answer) == 200
        assert len(json.loads(answer.split(b"\r\n\r\n", 1)[1])["codes"]) == 10_000
    # A connection left idle longer than httpx keeps one is still open for the next request.
    assert outcome["idle"] == (200, 200)
    assert not [line for line in log.splitlines() if "Traceback" in line or " codestand.errors " in line or " uvicorn.error " in line], log
    print(f"\n[slow clients] 60 quick requests in {outcome['quick_seconds']:.2f} s beside 22 slow clients")
