"""Clients that misbehave on the wire, against a real server: they hang up in the middle of a
request or before reading the answer. The server goes on serving everyone else, logs no error,
and what was cut off is stored whole or not at all.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.live import LASTING_PROMOTION, Server, codes_body, counters_that_disagree, half_written_groups, ti_group

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


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_clients_that_hang_up_mid_request_leave_nothing_half_done(tmp_path: Path, backend: str):
    args = ["--storage", f"sqlite:{tmp_path / 'store.sqlite'}"] if backend == "sqlite" else []
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
