"""No request holds the server for long: a real `codestand serve`, fed the requests that used to
stall it, answers them fast while health keeps answering.

Before: a snapshot of one group of 40,000 codes took 38 s (the check counted each code against
the whole list), and 2,000 fault rules of long globs against a 12,000-character path held the
event loop 12 s, health included.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from codestand.control.faults import MAX_RULES
from codestand.core import globs
from codestand.http.middleware import MAX_PATH
from tests.live import Server

CONTROL = "/__codestand"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("bounded") / "server.log", "--quiet") as running:
        running.start()
        yield running


class Health(threading.Thread):
    """Asks for health over and over while a test runs, and keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.slowest = 0.0
        self.answers = 0
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.done.is_set():
                started = time.monotonic()
                assert http.get(f"{CONTROL}/health").status_code == 200
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.answers += 1
                time.sleep(0.01)

    def __enter__(self) -> Health:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.done.set()
        self.join(30)


def snapshot_of_codes(count: int, per_group: int = 10_000) -> dict:
    """`count` codes in groups of `per_group` (the most a group may have)."""
    codes = [f"{n:08d}" for n in range(count)]
    return {
        "version": 1,
        "catalog": {},
        "redemptionCodeGroups": [
            {
                "id": f"6a1f2b3c-4d5e-4f60-8a7b-{start:012d}",
                "label": "Big",
                "codeLength": 8,
                "totalCodesCount": len(codes[start : start + per_group]),
                "createdAt": "2025-01-01T00:00:00.000Z",
                "codes": codes[start : start + per_group],
            }
            for start in range(0, count, per_group)
        ],
        "redemptions": [],
        "promotions": [],
    }


def test_a_snapshot_of_40000_codes_answers_fast_and_health_keeps_answering(server):
    body = snapshot_of_codes(40_000)
    with httpx.Client(base_url=server.url, timeout=60) as http, Health(server.url) as health:
        time.sleep(0.1)
        started = time.monotonic()
        response = http.put(f"{CONTROL}/tenants/big-one/snapshot", json=body, headers={"X-Codestand": "1"})
        took = time.monotonic() - started
    assert response.status_code == 204, response.text
    # Parsing and validating 40,000 codes is most of it; the old check took 38 s.
    assert took < 2.0, took
    assert health.slowest < 1.0, health.slowest
    with httpx.Client(base_url=server.url, timeout=60) as http:
        exported = http.get(f"{CONTROL}/tenants/big-one/snapshot").json()
    assert [g["codes"] for g in exported["redemptionCodeGroups"]] == [g["codes"] for g in body["redemptionCodeGroups"]]


def test_a_code_twice_in_a_big_snapshot_is_found_fast(server):
    body = snapshot_of_codes(40_000)
    body["redemptionCodeGroups"][-1]["codes"][-1] = "00000000"
    with httpx.Client(base_url=server.url, timeout=60) as http:
        started = time.monotonic()
        response = http.put(f"{CONTROL}/tenants/big-two/snapshot", json=body, headers={"X-Codestand": "1"})
        took = time.monotonic() - started
    assert response.status_code in (400, 422), response.text
    assert "00000000" in response.text
    assert took < 2.0, took


def test_many_long_fault_rules_and_a_long_path_stay_fast(server):
    # The worst pattern the old matcher knew: stars and literals, as long as allowed.
    pattern = ("/v2/" + "*a" * globs.MAX_PATTERN)[: globs.MAX_PATTERN - 1] + "x"
    assert len(pattern) == globs.MAX_PATTERN
    with httpx.Client(base_url=server.url, timeout=60) as http:
        try:
            for _ in range(MAX_RULES):
                added = http.post(f"{CONTROL}/faults", json={"path": pattern, "status": 503})
                assert added.status_code == 201, added.text
            refused = http.post(f"{CONTROL}/faults", json={"path": pattern, "status": 503})
            assert refused.status_code == 422
            assert refused.json() == {
                "errors": [
                    {
                        "status": 422,
                        "title": "Too many fault rules",
                        "detail": f"At most {MAX_RULES} fault rules can be in force at once; remove some first",
                    }
                ]
            }
            with Health(server.url) as health:
                for length in (MAX_PATH - 4, 12_000):
                    started = time.monotonic()
                    response = http.get("/v2/" + "a" * length)
                    took = time.monotonic() - started
                    assert response.status_code == 404, (length, response.text)
                    assert took < 0.5, (length, took)
                # The journal filtered by the same glob, over every entry.
                started = time.monotonic()
                assert http.get(f"{CONTROL}/journal", params={"path": pattern}).status_code == 200
                assert time.monotonic() - started < 0.5
            assert health.slowest < 0.5, health.slowest
        finally:
            http.delete(f"{CONTROL}/faults")


def test_a_pattern_over_the_limit_is_refused(server):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        too_long = "/" + "a" * globs.MAX_PATTERN
        assert http.post(f"{CONTROL}/faults", json={"path": too_long, "status": 503}).status_code == 400
        assert http.get(f"{CONTROL}/journal", params={"path": too_long + "*"}).status_code == 400
        assert http.get(f"{CONTROL}/faults").json() == {"faults": []}


def test_the_matcher_agrees_with_a_slow_reference():
    """The cached DFA gives the answers of the plain state-set simulation it replaced."""
    import random

    def reference(pattern: str, path: str) -> bool:
        # The glob as a regular expression, on inputs small enough for backtracking.
        import re

        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**", i):
                out, i = out + ".*", i + 2
                while pattern.startswith("*", i):
                    i += 1
                continue
            char = pattern[i]
            out += "[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char)
            i += 1
        return re.fullmatch(out, path, re.DOTALL) is not None

    draw = random.Random(16)
    for _ in range(5000):
        pattern = "".join(draw.choice(["a", "b", "/", "*", "**", "?"]) for _ in range(draw.randint(0, 7)))
        path = "".join(draw.choice("ab/") for _ in range(draw.randint(0, 9)))
        assert globs.matches(pattern, path) == reference(pattern, path), (pattern, path)
