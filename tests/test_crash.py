"""A server killed with SIGKILL in the middle of creates: after a restart every create that was
answered 2xx is there in full, and nothing is there in part."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.live import (
    LASTING_PROMOTION,
    Server,
    all_codes,
    all_groups,
    codes_body,
    counters_that_disagree,
    half_written_groups,
    moltin_headers,
    ti_group,
    ti_headers,
)

KEY = "crash-key"
BATCH = 20
CLIENTS = 6  # two of three create groups, the others add promotion codes


@dataclass
class Answered:
    """The creates that were answered 201, which must all survive the crash."""

    groups: dict[str, int] = field(default_factory=dict)  # id -> totalCodesCount
    codes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # promotion id -> codes
    cut_off: int = 0  # requests the crash left unanswered: either outcome is right for those
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_until_crash(server: Server, answered: Answered, round_: int, headers: dict[str, str], promotions: list[str]) -> None:
    """Clients create as fast as they can; the server is killed while they do."""
    stop = threading.Event()

    def keep_creating(n: int) -> None:
        with server.client() as http:
            for k in range(100_000):
                if stop.is_set():
                    return
                promotion = promotions[(n + k) % len(promotions)]
                codes = [f"C{round_}-{n}-{k}-{i}" for i in range(BATCH)]
                try:
                    if n % 3:
                        response = http.post("/incoming/v2/redemptionCodes", headers=ti_headers(KEY), json=ti_group(f"{n}-{k}", 10_000, 8))
                    else:
                        response = http.post(f"/v2/promotions/{promotion}/codes", headers=headers, json=codes_body(*codes))
                except httpx.TransportError:
                    with answered.lock:
                        answered.cut_off += 1
                    return
                assert response.status_code == 201, response.text
                with answered.lock:
                    if n % 3:
                        answered.groups[response.json()["id"]] = response.json()["totalCodesCount"]
                    else:
                        answered.codes[promotion].update(codes)

    clients = [threading.Thread(target=keep_creating, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    goal, deadline = len(answered.groups) + 8, time.monotonic() + 20
    while len(answered.groups) < goal and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.uniform(0, 0.1))  # anywhere in the middle of the traffic
    server.crash()
    stop.set()
    for thread in clients:
        thread.join()
    assert server.process.returncode == -9
    assert len(answered.groups) >= goal, "too few creates before the crash"


def check_all_there(server: Server, path: Path, answered: Answered, headers: dict[str, str], promotions: list[str]) -> None:
    with server.client() as http:
        stored_groups = {g["id"]: g["totalCodesCount"] for g in all_groups(http, KEY)}
        for group_id, total in answered.groups.items():
            response = http.get(f"/incoming/v2/redemptionCodes/{group_id}", headers=ti_headers(KEY))
            assert (response.status_code, response.json()["totalCodesCount"]) == (200, total)
        stored_codes = {p: all_codes(http, headers, p) for p in promotions}

    assert stored_groups.items() >= answered.groups.items()
    for promotion, codes in answered.codes.items():
        assert codes <= set(stored_codes[promotion])
    batches: dict[str, int] = defaultdict(int)
    for codes in stored_codes.values():
        for code in codes:
            batches[code.rsplit("-", 1)[0]] += 1
    assert set(batches.values()) <= {BATCH}, "a batch of codes is there in part"
    assert half_written_groups(path) == []
    assert counters_that_disagree(path) == []


def test_sigkill_loses_no_answered_create_and_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "crash.sqlite"
    storage = ("--storage", f"sqlite:{path}", "--quiet")
    answered = Answered()

    # Two crashes: of two workers and their parent, then of a server restarted on the file the
    # first crash left.
    with Server(tmp_path / "first.log", *storage, "--workers", "2") as server:
        with server.client() as http:
            headers = moltin_headers(http, "crash-store")
            promotions = [http.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION).json()["data"]["id"] for _ in range(12)]
        create_until_crash(server, answered, 0, headers, promotions)
    with Server(tmp_path / "second.log", *storage) as server:
        check_all_there(server, path, answered, headers, promotions)  # the token survived as well
        create_until_crash(server, answered, 1, headers, promotions)
    assert answered.cut_off > 0, "no request was cut off: the crashes did not land in the middle of creates"

    with Server(tmp_path / "third.log", *storage) as server:
        check_all_there(server, path, answered, headers, promotions)
        assert server.stop() == 0
