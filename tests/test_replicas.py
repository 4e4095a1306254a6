"""One state for every replica: two `codestand serve` processes on one PostgreSQL database, and
SQLite with `--workers 2`. What one writes the other reads; tokens, the clock, fault rules
(a counted rule fires exactly its count in all) and the journal are shared; a replica killed
mid-write loses nothing it acknowledged."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.live import LASTING_PROMOTION, Server, all_groups, codes_body, moltin_headers, ti_group, ti_headers

PING = "/incoming/v2/ping"
FROZEN = "2031-02-03T04:05:06.789Z"


@pytest.fixture
def replicas(pg_database, tmp_path):
    a = Server(tmp_path / "a.log", "--storage", pg_database, "--quiet", "--db-pool-size", "4")
    b = Server(tmp_path / "b.log", "--storage", pg_database, "--quiet", "--db-pool-size", "4")
    with a, b:
        yield a, b


@pytest.fixture
def bounded_replicas(pg_database, tmp_path):
    """Two replicas that forget tenants unused for a minute and hold at most three."""
    flags = ("--storage", pg_database, "--quiet", "--db-pool-size", "4", "--tenant-ttl", "60s", "--max-tenants", "3")
    with Server(tmp_path / "a.log", *flags) as a, Server(tmp_path / "b.log", *flags) as b:
        yield a, b


@pytest.fixture
def workers(tmp_path):
    """SQLite shared by two worker processes: the kernel hands each connection to either."""
    with Server(tmp_path / "w.log", "--storage", f"sqlite:{tmp_path / 'w.sqlite'}", "--workers", "2", "--quiet") as server:
        yield server, server


@pytest.fixture(params=["postgresql-replicas", "sqlite-workers"])
def pair(request):
    """Two ways in to one state: two replicas on PostgreSQL, or one port of two SQLite workers
    (each request on a new connection, so both workers take some)."""
    return request.getfixturevalue("replicas" if request.param == "postgresql-replicas" else "workers")


def test_what_one_replica_writes_the_other_reads(replicas):
    a, b = replicas
    key = ti_headers("replica-key")
    with a.client() as one, b.client() as other:
        created = one.post("/incoming/v2/redemptionCodes", headers=key, json=ti_group("shared", 20, 8))
        assert created.status_code == 201, created.text
        group = created.json()
        read = other.get(f"/incoming/v2/redemptionCodes/{group['id']}", headers=key)
        assert (read.status_code, read.json()) == (200, {**group, "uploaded": False, "gift": False})
        codes = other.get(f"/__codestand/tenants/replica-key/redemption-code-groups/{group['id']}/codes")
        assert codes.status_code == 200
        assert len(codes.json()["codes"]) == 20


def test_a_token_from_one_replica_works_on_the_other(replicas):
    a, b = replicas
    with a.client() as one, b.client() as other:
        headers = moltin_headers(one, "replica-store")
        created = other.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION)
        assert created.status_code == 201, created.text
        promotion = created.json()["data"]
        read = one.get(f"/v2/promotions/{promotion['id']}", headers=headers)
        assert (read.status_code, read.json()["data"]) == (200, promotion)


def test_the_clock_set_through_one_is_the_others(pair):
    a, b = pair
    with a.client() as one, b.client() as other:
        assert one.put("/__codestand/clock", json={"now": FROZEN, "frozen": True}).json() == {"now": FROZEN, "frozen": True}
        for _ in range(6):  # new connections: with workers, several of them
            assert other.get("/__codestand/clock").json() == {"now": FROZEN, "frozen": True}
        headers = moltin_headers(other, "clock-store")
        created = other.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION)
        assert created.json()["data"]["created_at"] == FROZEN
        assert other.post("/__codestand/clock/advance", json={"seconds": 60}).status_code == 200
        assert one.get("/__codestand/clock").json() == {"now": "2031-02-03T04:06:06.789Z", "frozen": True}
        one.delete("/__codestand/clock")


def test_a_fault_rule_made_on_one_applies_on_the_other_and_fires_its_count_in_all(pair):
    a, b = pair
    with a.client() as one, b.client() as other:
        rule = one.post("/__codestand/faults", json={"method": "GET", "path": PING, "status": 503, "count": 7})
        assert rule.status_code == 201
        assert other.get("/__codestand/faults").json()["faults"] == [rule.json()]

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def ping(n: int) -> None:
        server = (a, b)[n % 2]
        with server.client() as http:
            for _ in range(5):
                status = http.get(PING, headers=ti_headers("fault-key")).status_code
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=ping, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == {503: 7, 200: 33}
    with a.client() as one, b.client() as other:
        assert one.get("/__codestand/faults").json() == {"faults": []}
        assert other.get("/__codestand/faults").json() == {"faults": []}


def test_the_journal_of_either_shows_requests_sent_to_both(pair):
    a, b = pair
    with a.client() as one, b.client() as other:
        one.delete("/__codestand/journal")
        for n in range(3):
            assert one.get(PING, headers=ti_headers(f"journal-a-{n}")).status_code == 200
            assert other.get(PING, headers=ti_headers(f"journal-b-{n}")).status_code == 200
        for http in (one, other):
            entries = http.get("/__codestand/journal").json()["entries"]
            assert [e["path"] for e in entries] == [PING] * 6
            ids = [e["id"] for e in entries]
            assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
            # Newest first: the last ping went to the second way in.
            assert entries[0]["request"]["headers"]["authorization"] == "[redacted]"



def _in_threads(count: int, work) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_promotion_job_runs_once_however_many_replicas_read_it(pair):
    """Every read of a store's jobs moves its queue on; replicas reading at once must not each
    start the job: its 500 codes are generated once, not once a replica."""
    a, b = pair
    with a.client() as one:
        one.put("/__codestand/clock", json={"now": FROZEN, "frozen": True})
        headers = moltin_headers(one, "job-store")
        promotion = one.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION).json()["data"]
        jobs = f"/v2/promotions/{promotion['id']}/jobs"
        one.put("/__codestand/moltin/tenants/job-store/promotion-jobs-hold", json={"hold": True})
        job = one.post(jobs, headers=headers, json={"type": "promotion_job", "job_type": "code_generate",
                                                     "parameters": {"number_of_codes": 500}}).json()["data"]  # fmt: skip
        assert job["status"] == "pending"
        # Let go while nobody reads, then read from both replicas at once.
        assert one.put("/__codestand/moltin/tenants/job-store/promotion-jobs-hold", json={"hold": False}).json() == {"hold": False}

    together = threading.Barrier(8)

    def read(n: int) -> None:
        with (a, b)[n % 2].client() as http:
            together.wait()
            for _ in range(3):
                assert http.get(jobs, headers=headers).status_code == 200

    _in_threads(8, read)
    with b.client() as other:
        listed = other.get(jobs, headers=headers).json()["data"]
        assert [(j["id"], j["status"], j.get("result")) for j in listed] == [(job["id"], "processing", {"generated": 500})]
        codes = other.get(f"/v2/promotions/{promotion['id']}/codes", headers=headers, params={"page[limit]": 100}).json()
        assert codes["meta"]["results"]["total"] == 500
        other.post("/__codestand/clock/advance", json={"seconds": 2})
        assert [j["status"] for j in other.get(jobs, headers=headers).json()["data"]] == ["completed"]
        other.delete("/__codestand/clock")


def test_a_jobs_hold_set_through_one_holds_on_the_other(pair):
    a, b = pair
    with a.client() as one, b.client() as other:
        headers = moltin_headers(one, "hold-store")
        promotion = one.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION).json()["data"]
        assert one.put("/__codestand/moltin/tenants/hold-store/promotion-jobs-hold", json={"hold": True}).json() == {"hold": True}
        jobs = f"/v2/promotions/{promotion['id']}/jobs"
        job = other.post(jobs, headers=headers, json={"type": "promotion_job", "job_type": "code_export"}).json()["data"]
        for _ in range(4):
            assert [(j["id"], j["status"]) for j in other.get(jobs, headers=headers).json()["data"]] == [(job["id"], "pending")]
        cancelled = other.post(f"{jobs}/{job['id']}/cancel", headers=headers)
        assert (cancelled.status_code, cancelled.json()["data"]["status"]) == (200, "cancelled")


def test_rate_limit_windows_count_the_requests_of_every_replica(pair):
    """Thought Industries' per-key window is one for the whole stand-in: the quota headers count
    down across both ways in, and with enforcement turned on through one, the request after
    the limit and its burst (120 + 20, Standard) is refused wherever it lands."""
    a, b = pair
    with a.client() as one:
        one.put("/__codestand/clock", json={"now": FROZEN, "frozen": True})
        assert one.put("/__codestand/tenants/quota-key/rate-limits", json={"enforced": True}).json() == {"enforced": True, "plan": "standard"}
    remaining: list[int] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def ping(n: int) -> None:
        with (a, b)[n % 2].client() as http:
            for _ in range(20):
                response = http.get(PING, headers=ti_headers("quota-key"))
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 200:
                        remaining.append(int(response.headers["x-ratelimit-remaining"]))

    _in_threads(8, ping)  # 160 requests
    assert statuses == {200: 140, 429: 20}
    # Each counted request saw its own count: 119 down to 0, then the burst at 0.
    assert sorted(remaining, reverse=True) == [*range(119, -1, -1), *[0] * 20]
    with b.client() as other:
        refused = other.get(PING, headers=ti_headers("quota-key"))
        assert refused.status_code == 429 and refused.headers["retry-after"] == "54"
        other.delete("/__codestand/clock")



def test_a_moltin_store_limit_turned_on_through_one_counts_requests_through_both(pair):
    """Moltin's 25 a second for a development store is the store's, whichever replica serves it."""
    a, b = pair
    with a.client() as one:
        one.put("/__codestand/clock", json={"now": FROZEN, "frozen": True})
        headers = moltin_headers(one, "limited-store")
        limits = one.put("/__codestand/moltin/tenants/limited-store/rate-limits", json={"enforced": True})
        assert limits.json() == {"enforced": True, "store_kind": "development"}
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def read(n: int) -> None:
        with (a, b)[n % 2].client() as http:
            for _ in range(5):
                status = http.get("/v2/promotions", headers=headers).status_code
                with lock:
                    statuses[status] += 1

    _in_threads(8, read)  # 40 requests in one second of the frozen clock
    assert statuses == {200: 25, 429: 15}
    with b.client() as other:
        other.delete("/__codestand/clock")

def test_a_tenant_used_through_one_replica_is_not_forgotten_by_the_other(bounded_replicas):
    """`--tenant-ttl` counts the uses of every replica: a tenant one replica last saw long ago
    but the other uses is kept; one no replica used for the TTL is forgotten."""
    a, b = bounded_replicas
    with a.client() as one, b.client() as other:
        one.put("/__codestand/clock", json={"now": FROZEN, "frozen": True})
        kept = one.post("/incoming/v2/redemptionCodes", headers=ti_headers("busy"), json=ti_group("kept", 2, 8)).json()
        idle = one.post("/incoming/v2/redemptionCodes", headers=ti_headers("idle"), json=ti_group("idle", 2, 8)).json()
        one.post("/__codestand/clock/advance", json={"seconds": 50})
        assert other.get(PING, headers=ti_headers("busy")).status_code == 200  # used through the other one only
        one.post("/__codestand/clock/advance", json={"seconds": 20})  # 70 s after A last saw either
        assert one.get(PING, headers=ti_headers("sweeper")).status_code == 200  # A sweeps
        assert one.get(f"/incoming/v2/redemptionCodes/{kept['id']}", headers=ti_headers("busy")).status_code == 200
        assert other.get(f"/incoming/v2/redemptionCodes/{idle['id']}", headers=ti_headers("idle")).status_code == 404
        one.delete("/__codestand/clock")


def test_max_tenants_counts_the_tenants_of_every_replica(bounded_replicas):
    a, b = bounded_replicas
    with a.client() as one, b.client() as other:
        assert one.get(PING, headers=ti_headers("t-1")).status_code == 200
        assert other.get(PING, headers=ti_headers("t-2")).status_code == 200
        assert one.get(PING, headers=ti_headers("t-3")).status_code == 200
        refused = other.get(PING, headers=ti_headers("t-4"))
        assert (refused.status_code, refused.json()) == (
            503,
            {"errors": ["The stand-in holds 3 tenants, as many as it may (--max-tenants); try again once some are forgotten."]},
        )
        reset = one.post("/__codestand/thoughtindustries/tenants/t-2/reset", headers={"X-Codestand": "1"})
        assert reset.status_code == 204  # through the other replica than the one that saw it
        assert other.get(PING, headers=ti_headers("t-4")).status_code == 200

def test_a_replica_killed_while_clients_write_loses_nothing_it_acknowledged(replicas, postgres, pg_database):
    a, b = replicas
    acknowledged: dict[str, int] = {}
    codes_won: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with a.client() as http:
        headers = moltin_headers(http, "kill-store")
        promotion = http.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION).json()["data"]["id"]

    def write(n: int) -> None:
        with a.client(timeout=10) as http:
            for k in itertools.count():
                if stop.is_set():
                    return
                try:
                    if n % 2:
                        batch = [f"K{n}-{k}-{i}" for i in range(50)]
                        response = http.post(f"/v2/promotions/{promotion}/codes", headers=headers, json=codes_body(*batch))
                        if response.status_code == 201:
                            with lock:
                                codes_won.extend(batch)
                    else:
                        response = http.post("/incoming/v2/redemptionCodes", headers=ti_headers("kill-key"), json=ti_group(f"{n}-{k}", 300, 8))
                        if response.status_code == 201:
                            with lock:
                                acknowledged[response.json()["id"]] = response.json()["totalCodesCount"]
                except httpx.TransportError:
                    return  # the replica is gone

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    a.crash()
    stop.set()
    for thread in threads:
        thread.join()
    assert acknowledged and codes_won

    with b.client() as http:
        groups = {g["id"]: g["totalCodesCount"] for g in all_groups(http, "kill-key")}
        stored: list[str] = []
        while True:
            page = http.get(f"/v2/promotions/{promotion}/codes", headers=headers, params={"page[limit]": 100, "page[offset]": len(stored)}).json()
            stored += [c["code"] for c in page["data"]]
            if len(stored) >= page["meta"]["results"]["total"]:
                break
    assert {g: groups.get(g) for g in acknowledged} == acknowledged
    assert set(codes_won) <= set(stored)
    # No half-written group, and no half-written batch: every batch is all there or not at all.
    name = pg_database.rsplit("/", 1)[1]
    half = postgres.query(
        """SELECT g.id, g.total_codes, count(c.code) FROM redemption_groups g
           LEFT JOIN redemption_codes c ON c.tenant = g.tenant AND c.group_seq = g.seq
           GROUP BY g.seq, g.id, g.total_codes HAVING count(c.code) != g.total_codes""",
        name,
    )
    assert half == []
    batches = Counter(code.rsplit("-", 1)[0] for code in stored)
    assert set(batches.values()) == {50}
