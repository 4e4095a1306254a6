"""Bounds and retention: what one tenant may hold, how many tenants, how long an unused one is
kept; a catalog post answers what it added.

Before: 100 groups of 10,000 codes under 100 keys grew a server by 105 MB, 200 catalog posts of
850 KB by 462 MB (each echoing the whole catalog), and every key left a tenant behind for good.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.core.clock import Clock
from codestand.settings import Settings
from codestand.storage.memory import MemoryStorage
from tests.conftest import token_for
from tests.live import Server, ti_group, ti_headers
from tests.samples import GROUP, PROMOTION

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def client_for(store=None, **settings) -> TestClient:
    clock = Clock()
    clock.freeze(NOW)
    return TestClient(create_app(Settings(access_log=False, **settings), store=store or MemoryStorage(), clock=clock))


def test_a_tenant_holds_at_most_its_codes():
    with client_for(tenant_max_codes=25) as client:
        ti = ti_headers("k-1")
        assert client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 20}, headers=ti).status_code == 201
        refused = client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 6}, headers=ti)
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": ["totalCodesCount would take this tenant over 25 stored codes (--tenant-max-codes)."]},
        )
        assert client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 5}, headers=ti).status_code == 201
        # Another tenant has its own count.
        assert client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 20}, headers=ti_headers("k-2")).status_code == 201


def test_a_moltin_store_holds_at_most_its_codes():
    with client_for(tenant_max_codes=3) as client:
        moltin = {"Authorization": f"Bearer {token_for(client, 'store-b')}"}
        promotion = client.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]

        def add(*codes: str) -> httpx.Response:
            body = {"data": {"type": "promotion_codes", "codes": [{"code": c} for c in codes]}}
            return client.post(f"/v2/promotions/{promotion['id']}/codes", json=body, headers=moltin)

        assert add("A1", "A2").status_code == 201
        refused = add("A3", "A4")
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": [{"status": 422, "title": "Unprocessable Entity", "detail": "These codes would take this store over 3 stored codes (--tenant-max-codes)", "source": "data.codes"}]},
        )
        assert add("A3").status_code == 201


def test_a_snapshot_over_the_code_limit_is_refused():
    with client_for(tenant_max_codes=2) as client:
        snapshot = client.get("/__codestand/thoughtindustries/tenants/k/snapshot").json()
        snapshot["redemptionCodeGroups"] = [
            {"id": "g", "label": "L", "codeLength": 4, "totalCodesCount": 3, "createdAt": "2030-01-01T00:00:00Z", "codes": ["aaaa", "bbbb", "cccc"]}
        ]
        response = client.put("/__codestand/thoughtindustries/tenants/k/snapshot", json=snapshot)
        assert (response.status_code, response.json()["errors"][0]["title"]) == (422, "Too many codes")


def test_at_most_so_many_tenants(store):
    # On PostgreSQL the tenants' uses are the store's (`SharedTenants`), in memory and one
    # SQLite process the process's.
    with client_for(store, max_tenants=2) as client:
        for key in ("k-1", "k-2"):
            assert client.get("/incoming/v2/ping", headers=ti_headers(key)).status_code == 200
        refused = client.get("/incoming/v2/ping", headers=ti_headers("k-3"))
        assert (refused.status_code, refused.json()) == (
            503,
            {"errors": ["The stand-in holds 2 tenants, as many as it may (--max-tenants); try again once some are forgotten."]},
        )
        form = {"grant_type": "client_credentials", "client_id": "store-3", "client_secret": "s"}
        assert client.post("/oauth/access_token", data=form).status_code == 503
        # A known tenant still gets in; a reset makes room.
        assert client.get("/incoming/v2/ping", headers=ti_headers("k-1")).status_code == 200
        assert client.post("/__codestand/thoughtindustries/tenants/k-2/reset", headers={"X-Codestand": "1"}).status_code == 204
        assert client.get("/incoming/v2/ping", headers=ti_headers("k-3")).status_code == 200


def test_an_unused_tenant_is_forgotten_after_the_ttl(store):
    with client_for(store, tenant_ttl_seconds=3600) as client:
        clock = client.app.codestand.clock
        old = client.post("/incoming/v2/redemptionCodes", json=GROUP, headers=ti_headers("k-old")).json()
        clock.freeze(NOW + timedelta(minutes=30))
        kept = client.post("/incoming/v2/redemptionCodes", json=GROUP, headers=ti_headers("k-kept")).json()
        clock.freeze(NOW + timedelta(minutes=61))
        assert client.get("/incoming/v2/ping", headers=ti_headers("k-other")).status_code == 200
        assert client.get(f"/incoming/v2/redemptionCodes/{old['id']}", headers=ti_headers("k-old")).status_code == 404
        assert client.get(f"/incoming/v2/redemptionCodes/{kept['id']}", headers=ti_headers("k-kept")).status_code == 200
        assert len(client.app.codestand.tenants) == 3  # k-kept, k-other and k-old anew


def test_a_catalog_post_answers_what_it_added():
    with client_for() as client:
        path = "/__codestand/thoughtindustries/tenants/k/catalog"
        client.post(path, json={"courses": [{"id": "c-1", "title": "One"}]})
        response = client.post(path, json={"bundles": [{"id": "B-1", "name": "Bundle"}, {"id": "b-1", "name": "Bundle again"}]})
        assert response.json() == {"courses": [], "bundles": [{"id": "b-1", "name": "Bundle again"}], "licenses": [], "learningPaths": [], "clients": []}
        assert [i["id"] for i in client.get(path).json()["courses"]] == ["c-1"]


def test_a_catalog_holds_at_most_its_items():
    with client_for(max_catalog_items=3) as client:
        path = "/__codestand/thoughtindustries/tenants/k/catalog"
        items = [{"id": f"c-{n}", "title": "t"} for n in range(3)]
        assert client.post(path, json={"courses": items}).status_code == 200
        assert client.post(path, json={"courses": items}).status_code == 200  # renames add nothing
        refused = client.post(path, json={"bundles": [{"id": "b", "name": "n"}]})
        assert (refused.status_code, refused.json()) == (
            422,
            {"errors": [{"status": 422, "title": "Catalog too large", "detail": "A tenant's catalog holds at most 3 items"}]},
        )
        assert client.put(path, json={"courses": [*items, {"id": "c-9", "title": "t"}]}).status_code == 422


@pytest.mark.parametrize("flags", [("--max-tenants", "10", "--tenant-max-codes", "20000")])
def test_memory_stays_bounded_under_many_keys_and_big_catalogs(tmp_path, flags):
    with Server(tmp_path / "server.log", "--quiet", "--journal-size", "0", *flags) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            # Warm up: the first requests of each kind allocate what every later one reuses.
            http.post("/incoming/v2/redemptionCodes", json=ti_group("warm", 10_000, 12), headers=ti_headers("warm"))
            before = server.rss_kib()
            statuses = [
                http.post("/incoming/v2/redemptionCodes", json=ti_group("g", 10_000, 12), headers=ti_headers(f"key-{n}")).status_code
                for n in range(100)
            ]
            posted = []
            for post in range(40):  # about 350 KB each
                catalog = {"courses": [{"id": f"c-{post:03d}-{n:04d}-" + "i" * 80, "title": "t" * 255} for n in range(1000)]}
                posted.append(http.post("/__codestand/thoughtindustries/tenants/warm/catalog", json=catalog).status_code)
            grown_mib = (server.rss_kib() - before) / 1024
    # Nine more tenants fit beside `warm`; the rest are refused.
    assert statuses == [201] * 9 + [503] * 91
    # Ten posts fill the catalog's 10,000 items; the rest are refused.
    assert posted == [200] * 10 + [422] * 30
    # 9 groups of 10,000 codes and 10,000 catalog items: a few tens of MB at most (before: 105 MB
    # for the groups alone, 462 MB for 200 posts).
    assert grown_mib < 60, grown_mib
