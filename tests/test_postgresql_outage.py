"""PostgreSQL failing under a running server: 503 in each vendor's shape while it is down, the
health check 503 (what a load balancer reads), service back by itself when the server is, and
nothing acknowledged lost; the password in no log line. And a request waiting on the database
holds up no other request of its process."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from tests import pg
from tests.live import LASTING_PROMOTION, Server, all_groups, moltin_headers, ti_group, ti_headers

REASONS = ("the database cannot be reached", "no connection to the database could be had within 1 seconds")


def ti_unavailable(reason: str) -> dict:
    return {"errors": [f"Storage is not available: {reason}. Nothing was changed; try again later."]}


def moltin_unavailable(reason: str) -> dict:
    detail = f"The storage is not available: {reason}. Nothing was changed; try again later."
    return {"errors": [{"status": 503, "title": "Service Unavailable", "detail": detail}]}


@pytest.fixture
def cluster():
    """A cluster of this test's own, to stop and start (fsync on: a restart as in production)."""
    pg.require()
    own = pg.Cluster(fsync=True).start()
    try:
        yield own
    finally:
        own.close()


def _wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_postgresql_restarted_under_load(cluster, tmp_path):
    url = cluster.create_database("outage")
    with Server(tmp_path / "server.log", "--storage", url, "--db-timeout", "1") as server:
        with server.client() as http:
            moltin = moltin_headers(http, "outage-store")
        answers: list[tuple[str, int, dict]] = []
        acknowledged: dict[str, int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def write(n: int) -> None:
            with server.client(timeout=10) as http:
                for k in itertools.count():
                    if stop.is_set():
                        return
                    if n % 2:
                        response = http.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION)
                        vendor = "moltin"
                    else:
                        response = http.post("/incoming/v2/redemptionCodes", headers=ti_headers("outage-key"), json=ti_group(f"{n}-{k}", 50, 8))
                        vendor = "ti"
                    with lock:
                        answers.append((vendor, response.status_code, response.json()))
                        if vendor == "ti" and response.status_code == 201:
                            acknowledged[response.json()["id"]] = response.json()["totalCodesCount"]
                    time.sleep(0.02)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            cluster.stop("fast")
            down_from = len(answers)
            time.sleep(3)
            with server.client() as http:
                health = http.get("/__codestand/health")
            assert health.status_code == 503
            assert health.json() in [moltin_unavailable(r) for r in REASONS]
            cluster.start()
            with server.client() as http:
                _wait_for(lambda: http.get("/__codestand/health").status_code == 200)
            back_at = len(answers)
            time.sleep(1.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join()

        during = answers[down_from:back_at]
        after = answers[back_at + 8 :]  # requests already waiting when it came back may still fail
        assert {status for _, status, _ in answers} <= {201, 503}
        assert any(status == 503 for _, status, _ in during)
        for vendor, status, body in during:
            if status == 503:
                shapes = ti_unavailable if vendor == "ti" else moltin_unavailable
                assert body in [shapes(r) for r in REASONS], body
        assert after and all(status == 201 for _, status, _ in after), after[:3]
        with server.client() as http:
            groups = {g["id"]: g["totalCodesCount"] for g in all_groups(http, "outage-key")}
        assert {g: groups.get(g) for g in acknowledged} == acknowledged
    log = server.log()
    assert "Traceback" not in log
    assert pg.PASSWORD not in log
    assert "codestand.errors storage unavailable: " in log


def test_a_request_waiting_on_the_database_holds_up_no_other(postgres, pg_database, tmp_path):
    """A write waits on a row another session holds locked; meanwhile the same (single)
    process answers other requests, which need the store too, at once."""
    name = pg_database.rsplit("/", 1)[1]
    with Server(tmp_path / "server.log", "--storage", pg_database, "--quiet") as server:
        with server.client() as http:
            blocked_headers = moltin_headers(http, "blocked-store")
            other_headers = moltin_headers(http, "other-store")
        import psycopg

        holder = psycopg.connect(pg_database)
        try:
            holder.execute("SELECT id FROM tenants WHERE name = 'blocked-store' FOR UPDATE")  # held until commit
            done: dict[str, float] = {}

            def blocked_write() -> None:
                started = time.perf_counter()
                with server.client() as http:
                    response = http.post("/v2/promotions", headers=blocked_headers, json=LASTING_PROMOTION)
                done["status"] = response.status_code
                done["seconds"] = time.perf_counter() - started

            writer = threading.Thread(target=blocked_write)
            writer.start()
            time.sleep(0.5)
            latencies = []
            with server.client() as http:
                for _ in range(20):
                    started = time.perf_counter()
                    assert http.get("/v2/promotions", headers=other_headers).status_code == 200
                    latencies.append(time.perf_counter() - started)
            assert "status" not in done  # still waiting on the lock
            assert max(latencies) < 0.5, latencies
        finally:
            holder.commit()
            holder.close()
        writer.join(10)
        assert done["status"] == 201
        print(f"\nwhile one write waited {done['seconds']:.2f} s on a lock: other requests' latency "
              f"median {sorted(latencies)[10] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")  # fmt: skip
    assert postgres.query("SELECT count(*) FROM promotions", name) == [(1,)]
