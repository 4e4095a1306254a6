"""The fast path answers exactly what Connexion's path answers: same status, headers and bytes.

The same scenario (well-formed requests the fast path serves, and every kind of request it must
hand to Connexion) runs against an app with the fast path and one without; ids and the clock are
made deterministic so that the two transcripts can be compared byte for byte.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.core.clock import Clock
from codestand.http import fastpath
from codestand.settings import Settings
from codestand.storage.memory import MemoryStorage
from tests.samples import GROUP, PROMOTION

_COMPILE = fastpath.compile_routes


def _app(monkeypatch, *, fast: bool):
    counter = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))
    monkeypatch.setattr(fastpath, "compile_routes", _COMPILE if fast else lambda document: {})
    clock = Clock()
    clock.freeze(datetime(2025, 5, 10, 15, 25, 21, 164000, tzinfo=timezone.utc))
    return create_app(Settings(access_log=False), store=MemoryStorage(), clock=clock)


def _scenario(client: TestClient) -> list[tuple]:
    seen: list[tuple] = []

    def call(method: str, path: str, *, key: str | None = "key-1", token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if isinstance(headers, dict):  # a list of pairs is sent as it is (repeated headers)
            headers = dict(headers)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            elif key is not None:
                headers["Authorization"] = f"Bearer {key}"
        response = client.request(method, path, headers=headers, **kwargs)
        seen.append((method, path, response.status_code, sorted(response.headers.multi_items()), response.content))
        return response

    raw = {"headers": {"Content-Type": "application/json"}}
    ti = "/incoming/v2/redemptionCodes"
    call("GET", "/incoming/v2/ping")
    call("GET", "/incoming/v2/ping", key=None)
    call("GET", "/incoming/v2/ping", headers={"Authorization": "Basic a2V5"}, key=None)
    call("GET", "/incoming/v2/ping", headers={"Authorization": "Bearer: key-1"}, key=None)
    call("GET", "/incoming/v2/ping", headers={"Authorization": "Bearer"}, key=None)
    for authorization in ("bearer key-1", "BEARER key-1", "Bearer   key-1 ", "Bearer\tkey-1", "bearer: key-1", " Bearer key-1"):
        call("GET", "/incoming/v2/redemptionCodes", headers={"Authorization": authorization}, key=None)
    call("GET", "/incoming/v2/redemptionCodes", headers=[("Authorization", "Bearer key-1")] * 2)
    call("GET", "/incoming/v2/redemptionCodes", headers=[("Authorization", "Bearer key-1"), ("Authorization", "Basic a2V5")])
    call("HEAD", "/incoming/v2/ping")
    call("GET", ti)
    group = call("POST", ti, json=GROUP).json()["id"]
    call("POST", ti, json={**GROUP, "label": "Second", "expirationDate": "2030-01-01"})
    call("POST", ti, json={**GROUP, "codeLength": "8", "courses": ["not-a-uuid"]})
    call("POST", ti, json={"label": ""})
    call("POST", ti, json={**GROUP, "accessDays": 3, "accessExpirationDate": "2030-01-01"})
    call("POST", ti, json={**GROUP, "totalCodesCount": 10_001})
    call("POST", ti, json={**GROUP, "codeLength": 4, "totalCodesCount": 10_000})
    call("POST", ti, content=b'{"label": "x", "label": "y"}', **raw)
    call("POST", ti, content=b"not json", **raw)
    call("POST", ti, content=b"", **raw)
    call("POST", ti, content=b"   ", **raw)
    call("POST", ti, content=b"[1, NaN]", **raw)
    call("POST", ti, content=json.dumps(GROUP).encode(), headers={"Content-Type": "application/json; charset=utf-8"})
    call("POST", ti, content=json.dumps(GROUP).encode(), headers={"Content-Type": "text/plain"})
    call("POST", ti, content=json.dumps(GROUP).encode())
    call("POST", ti, json=GROUP, key=None)
    call("POST", ti, json=GROUP, key="key-2")
    call("GET", f"{ti}/{group}")
    call("GET", f"{ti}/{group}", key="key-2")
    call("GET", f"{ti}/nope")
    call("GET", f"{ti}/{'x' * 5000}")
    call("GET", f"{ti}/{group}/")
    call("GET", ti)
    call("GET", f"{ti}?sort=label:desc")
    call("GET", f"{ti}?sort=wrong")
    call("GET", f"{ti}?cursor=bogus")
    call("PUT", ti, json=GROUP)
    call("GET", "/incoming/v2/events/redemptionCodeRedeem")
    call("GET", "/incoming/v2/events/redemptionCodeRedeem?startDate=yesterday")

    token = client.post(
        "/oauth/access_token", data={"grant_type": "client_credentials", "client_id": "store-1", "client_secret": "s"}
    ).json()["access_token"]
    implicit = client.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": "store-1"}).json()[
        "access_token"
    ]
    promotions = "/v2/promotions"
    call("GET", promotions, token=token)
    promotion = call("POST", promotions, json=PROMOTION, token=token).json()["data"]["id"]
    automatic = call("POST", promotions, json={"data": {**PROMOTION["data"], "automatic": True}}, token=token).json()["data"]["id"]
    call("POST", promotions, json={"data": {**PROMOTION["data"], "schema": {"currencies": []}}}, token=token)
    call("POST", promotions, json={"data": {**PROMOTION["data"], "end": "2010-01-01"}}, token=token)
    call("POST", promotions, json=PROMOTION, token=implicit)
    call("POST", promotions, json=PROMOTION, token="unknown")
    call("POST", promotions, json=PROMOTION, headers={"Authorization": f"Bearer: {token}"}, key=None)
    for authorization in (f"bearer: {token}", f"BEARER  {token}", f"Bearer\t{token}", f"Bearer {token} "):
        call("GET", f"{promotions}", headers={"Authorization": authorization}, key=None)
    call("GET", promotions, headers=[("Authorization", f"Bearer {token}")] * 2)
    codes = f"{promotions}/{promotion}/codes"
    body = {"data": {"type": "promotion_codes", "codes": [{"code": "ZXY_CBA"}, {"code": "ABC_XYZ", "uses": 2}]}}
    call("POST", codes, json=body, token=token)
    call("POST", codes, json=body, token=token)
    call("POST", codes, json={"data": {"type": "promotion_codes", "codes": [{"code": "A"}, {"code": "A"}]}}, token=token)
    call("POST", codes, json={"data": {"type": "promotion_codes", "codes": [{"code": "has space"}]}}, token=token)
    call("POST", codes, json={"data": {"type": "promotion_codes", "codes": []}}, token=token)
    call("POST", codes, json={"data": {"type": "promotion_codes", "codes": [{"code": f"C{n}"} for n in range(1001)]}}, token=token)
    call("POST", f"{promotions}/{automatic}/codes", json=body, token=token)
    call("POST", f"{promotions}/{uuid.UUID(int=999)}/codes", json=body, token=token)
    call("GET", codes, token=token)
    call("GET", f"{codes}?page[limit]=1&page[offset]=1", token=token)
    call("GET", f"{codes}?page[limit]=1000", token=token)
    call("GET", f"{promotions}/{automatic}/codes", token=token)
    call("GET", f"{promotions}/{promotion}", token=token)
    call("GET", f"{promotions}/{promotion}", token=implicit)
    call("GET", f"{promotions}/nope", token=token)
    call("GET", promotions, token=token)
    call("GET", f"{promotions}?filter=eq(code,ZXY_CBA)", token=token)
    call("DELETE", f"{codes}/ZXY_CBA", token=token)
    call("GET", codes, token=token)
    return seen


def test_fast_path_answers_exactly_as_connexion(monkeypatch):
    served = []
    respond = fastpath._respond

    async def counted(result, send):
        served.append(result)
        await respond(result, send)

    monkeypatch.setattr(fastpath, "_respond", counted)
    with TestClient(_app(monkeypatch, fast=False)) as client:
        slow = _scenario(client)
    assert not served
    with TestClient(_app(monkeypatch, fast=True)) as client:
        fast = _scenario(client)
    assert len(served) >= 15  # the well-formed requests took the fast path
    assert len(fast) == len(slow)
    for got, expected in zip(fast, slow):
        assert got == expected


def test_the_hot_operations_are_compiled():
    from codestand import spec

    compiled = {(method, route.handler.__name__) for method, routes in fastpath.compile_routes(spec.load()).items() for route in routes}
    assert {
        ("POST", "create_group"),
        ("GET", "get_group"),
        ("GET", "list_groups"),
        ("POST", "add_codes"),
        ("GET", "list_codes"),
    } <= compiled
    # Form bodies (the token endpoint), deletes and updates stay with Connexion.
    assert not {name for _, name in compiled} & {"access_token", "delete_code", "delete_codes", "update_promotion"}


@pytest.mark.parametrize("path", ["/incoming/v2/redemptionCodes", "/v2/promotions"])
def test_served_requests_still_reach_the_handlers_with_the_tenant(client, path):
    # A smoke check on the real app: the fast path's answer carries the caller's data.
    token = client.post(
        "/oauth/access_token", data={"grant_type": "client_credentials", "client_id": "s", "client_secret": "x"}
    ).json()["access_token"]
    key = token if path.startswith("/v2") else "k"
    body = PROMOTION if path.startswith("/v2") else GROUP
    created = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201
    listed = client.get(path, headers={"Authorization": f"Bearer {key}"}).json()
    assert json.dumps(listed).count(created.json().get("id") or created.json()["data"]["id"]) == 1


def test_group_lists_are_the_bytes_json_dumps_gives(ti):
    """The list handler splices remembered JSON per group: it must stay what encoding the whole
    page gives, also after a redemption replaces a group's record."""
    first = ti.post("/incoming/v2/redemptionCodes", json={**GROUP, "label": "Früh \u2603 \"quoted\""}).json()["id"]
    ti.post("/incoming/v2/redemptionCodes", json=GROUP)

    def check() -> dict:
        response = ti.get("/incoming/v2/redemptionCodes")
        assert response.headers["content-type"] == "application/json"
        assert response.content == (json.dumps(response.json()) + "\n").encode()
        return response.json()

    assert [g["redeemedCodesCount"] for g in check()["redemptionCodeGroups"]] == [0, 0]
    code = ti.get(f"/__codestand/tenants/ti-test-key/redemption-code-groups/{first}/codes").json()["codes"][0]["code"]
    assert ti.post("/__codestand/tenants/ti-test-key/redemptions", json={"code": code, "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"}).status_code == 201
    assert [g["redeemedCodesCount"] for g in check()["redemptionCodeGroups"]] == [1, 0]
    assert check()["pageInfo"] == {"total": 2, "hasMore": False, "cursor": None}
    assert ti.get("/incoming/v2/redemptionCodes?query=nothing").json()["redemptionCodeGroups"] == []


def test_code_lists_are_the_bytes_json_dumps_gives(moltin):
    promotion = moltin.post("/v2/promotions", json=PROMOTION).json()["data"]["id"]
    codes = f"/v2/promotions/{promotion}/codes"

    def check(path: str = codes) -> dict:
        response = moltin.get(path)
        assert response.headers["content-type"] == "application/json"
        assert response.content == (json.dumps(response.json()) + "\n").encode()
        return response.json()

    assert check()["data"] == []
    entries = [{"code": "ZXY_CBA", "uses": 2, "user": "shopper-é"}, {"code": "ABC_XYZ", "consume_unit": "per_item"}]
    moltin.post(codes, json={"data": {"type": "promotion_codes", "codes": entries}})
    assert [c.get("uses") for c in check()["data"]] == [2, None]
    used = moltin.post("/__codestand/tenants/store-1/promotion-code-uses", json={"code": "ZXY_CBA", "user": "shopper-é"})
    assert used.status_code < 300
    assert [c.get("uses") for c in check()["data"]] == [1, None]
    assert check(f"{codes}?page[limit]=1&page[offset]=1")["links"]["prev"] is not None
