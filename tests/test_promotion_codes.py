"""Moltin promotion codes: the vendor page's 201, quotas, uniqueness and the expiry lifecycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from codestand.core import tenants
from codestand.core.models import PromotionCode
from tests.conftest import token_for
from tests.test_promotions import VENDOR_EXAMPLE, error

NOW = datetime(2018, 5, 10, 15, 25, 21, 164000, tzinfo=timezone.utc)
LIVE = {**VENDOR_EXAMPLE, "start": "2017-11-13", "end": "2019-11-13"}


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


@pytest.fixture
def promotion(moltin) -> dict:
    response = moltin.post("/v2/promotions", json={"data": LIVE})
    assert response.status_code == 201
    return response.json()["data"]


def add(moltin, promotion_id: str, *codes: dict):
    return moltin.post(f"/v2/promotions/{promotion_id}/codes", json={"data": {"type": "promotion_codes", "codes": list(codes)}})


def listed(moltin, promotion_id: str, query: str = "") -> list[dict]:
    response = moltin.get(f"/v2/promotions/{promotion_id}/codes{query}")
    assert response.status_code == 200
    return response.json()["data"]


def test_vendor_curl_example_answers_201_with_the_promotion(moltin, clock, promotion):
    clock.advance(timedelta(seconds=57, milliseconds=39))
    response = add(moltin, promotion["id"], {"code": "ZXY_CBA"}, {"code": "ABC_XYZ"})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    # As on the vendor page: the promotion, its updated_at moved by the write.
    assert response.json() == {"data": {**promotion, "updated_at": "2018-05-10T15:26:18.203Z"}}
    assert listed(moltin, promotion["id"]) == [
        {"code": "ZXY_CBA", "consume_unit": "per_cart"},
        {"code": "ABC_XYZ", "consume_unit": "per_cart"},
    ]


def test_uses_user_and_consume_unit_are_kept(moltin, promotion):
    add(moltin, promotion["id"], {"code": "ONCE", "uses": 1, "user": "customer-42", "consume_unit": "per_item"})
    assert listed(moltin, promotion["id"]) == [
        {"code": "ONCE", "uses": 1, "user": "customer-42", "consume_unit": "per_item"}
    ]


def test_codes_list_pages(moltin, promotion):
    add(moltin, promotion["id"], *({"code": f"C{n}"} for n in range(5)))
    response = moltin.get(f"/v2/promotions/{promotion['id']}/codes?page[limit]=2&page[offset]=4")
    body = response.json()
    url = f"http://testserver/v2/promotions/{promotion['id']}/codes?page[limit]=2&page[offset]={{}}"
    assert body == {
        "data": [{"code": "C4", "consume_unit": "per_cart"}],
        "links": {"current": url.format(4), "first": url.format(0), "last": url.format(4), "prev": url.format(2), "next": None},
        "meta": {"page": {"limit": 2, "offset": 4, "current": 3, "total": 3}, "results": {"total": 5}},
    }


DUPLICATE = "The code {} is already used by a promotion in this store"


def test_a_code_is_unique_within_a_store(moltin, promotion):
    other = moltin.post("/v2/promotions", json={"data": {**LIVE, "name": "Other"}}).json()["data"]
    assert add(moltin, promotion["id"], {"code": "SAME"}).status_code == 201
    for target in (promotion["id"], other["id"]):
        response = add(moltin, target, {"code": "NEW"}, {"code": "SAME"})
        assert response.status_code == 409
        assert response.json() == {"errors": [error(409, "Conflict", DUPLICATE.format("SAME"), "data.codes[1].code")]}
    # Nothing of a refused batch is kept.
    assert listed(moltin, other["id"]) == []
    assert [c["code"] for c in listed(moltin, promotion["id"])] == ["SAME"]


def test_the_same_code_twice_in_one_request(moltin, promotion):
    response = add(moltin, promotion["id"], {"code": "TWICE"}, {"code": "TWICE"})
    assert response.status_code == 409
    assert response.json() == {
        "errors": [
            error(409, "Conflict", DUPLICATE.format("TWICE"), "data.codes[0].code"),
            error(409, "Conflict", DUPLICATE.format("TWICE"), "data.codes[1].code"),
        ]
    }
    assert listed(moltin, promotion["id"]) == []


TOO_MANY = {"errors": [error(400, "Too many promotion codes", "Only 1000 promotion codes are allowed per promotion")]}


def test_at_most_1000_codes_a_promotion(moltin, promotion):
    assert add(moltin, promotion["id"], *({"code": f"C{n}"} for n in range(999))).status_code == 201
    response = add(moltin, promotion["id"], {"code": "LAST"}, {"code": "ONE-TOO-MANY"})
    assert response.status_code == 400
    assert response.json() == TOO_MANY
    assert add(moltin, promotion["id"], {"code": "LAST"}).status_code == 201


def test_more_than_1000_in_one_request(moltin, promotion):
    response = add(moltin, promotion["id"], *({"code": f"C{n}"} for n in range(1001)))
    assert response.status_code == 400
    assert response.json() == {
        "errors": [error(400, "Too many promotion codes", "Only 1000 promotion codes are allowed per promotion", "data.codes")]
    }


def test_no_codes_on_an_automatic_promotion(moltin):
    automatic = moltin.post("/v2/promotions", json={"data": {**LIVE, "automatic": True}}).json()["data"]
    response = add(moltin, automatic["id"], {"code": "NOPE"})
    assert response.status_code == 422
    assert response.json() == {
        "errors": [error(422, "No codes allowed", "Cannot add codes to an automatic promotion")]
    }
    # Its system code is listed instead.
    assert listed(moltin, automatic["id"]) == [{"code": f"auto_{automatic['id']}", "consume_unit": "per_cart"}]


@pytest.mark.parametrize(
    ("codes", "errors"),
    [
        ([], [error(400, "minItems", "codes must have at least 1 items", "data.codes")]),
        ([{"uses": 2}], [error(400, "required", "code is required", "data.codes[0].code")]),
        (
            [{"code": ""}],
            [
                error(400, "pattern", "code is not in the expected form", "data.codes[0].code"),
                error(400, "minLength", "code must be at least 1 characters long", "data.codes[0].code"),
            ],
        ),
        ([{"code": "A B"}], [error(400, "pattern", "code is not in the expected form", "data.codes[0].code")]),
        ([{"code": "A", "uses": 0}], [error(400, "minimum", "uses must be at least 1", "data.codes[0].uses")]),
        ([{"code": "A", "uses": "1"}], [error(400, "type", "uses must be an integer", "data.codes[0].uses")]),
        (
            [{"code": "A", "consume_unit": "per_order"}],
            [error(400, "enum", "consume_unit must be one of: per_cart, per_item", "data.codes[0].consume_unit")],
        ),
    ],
    ids=["none", "no-code", "empty-code", "space-in-code", "zero-uses", "uses-string", "unknown-consume-unit"],
)
def test_code_problems(moltin, promotion, codes, errors):
    response = add(moltin, promotion["id"], *codes)
    assert response.status_code == 400
    assert response.json() == {"errors": errors}


def test_wrong_body_type(moltin, promotion):
    response = moltin.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion", "codes": [{"code": "A"}]}})
    assert response.status_code == 400
    assert response.json() == {"errors": [error(400, "type", "type must be promotion_codes", "data.type")]}


def test_delete_one_code(moltin, promotion):
    add(moltin, promotion["id"], {"code": "KEEP"}, {"code": "DROP"})
    response = moltin.delete(f"/v2/promotions/{promotion['id']}/codes/DROP")
    assert (response.status_code, response.content) == (204, b"")
    assert listed(moltin, promotion["id"]) == [{"code": "KEEP", "consume_unit": "per_cart"}]
    response = moltin.delete(f"/v2/promotions/{promotion['id']}/codes/DROP")
    assert response.status_code == 404
    assert response.json() == {"errors": [error(404, "Not Found", "promotion code not found")]}


def test_bulk_delete_passes_over_unknown_codes(moltin, promotion):
    add(moltin, promotion["id"], {"code": "A"}, {"code": "B"}, {"code": "C"})
    body = {"data": {"type": "promotion_codes", "codes": [{"code": "A"}, {"code": "C"}, {"code": "ZZZ"}]}}
    response = moltin.request("DELETE", f"/v2/promotions/{promotion['id']}/codes", json=body)
    assert (response.status_code, response.content) == (204, b"")
    assert listed(moltin, promotion["id"]) == [{"code": "B", "consume_unit": "per_cart"}]
    # A deleted code may be used again.
    assert add(moltin, promotion["id"], {"code": "A"}).status_code == 201


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "/codes", {"data": {"type": "promotion_codes", "codes": [{"code": "X"}]}}),
        ("GET", "/codes", None),
        ("DELETE", "/codes", {"data": {"type": "promotion_codes", "codes": [{"code": "X"}]}}),
        ("DELETE", "/codes/X", None),
    ],
)
def test_unknown_promotion(moltin, method, suffix, body):
    response = moltin.request(method, f"/v2/promotions/nope{suffix}", json=body)
    assert response.status_code == 404
    assert response.json() == {"errors": [error(404, "Not Found", "promotion not found")]}


@pytest.mark.parametrize("slash", ["%2F", "%2f"])
def test_an_encoded_slash_reaches_no_other_operation(moltin, promotion, slash):
    # Decoded before routing, `DELETE /v2/promotions/{id}%2Fcodes%2FX` deleted code X: an id
    # taken from elsewhere and escaped by the client chose the operation.
    add(moltin, promotion["id"], {"code": "KEPT"})
    response = moltin.delete(f"/v2/promotions/{promotion['id']}{slash}codes{slash}KEPT")
    assert response.status_code == 404
    assert response.json() == {"errors": [error(404, "Not Found", "The requested resource was not found")]}
    assert moltin.get(f"/v2/promotions{slash}{promotion['id']}").status_code == 404
    assert [c["code"] for c in listed(moltin, promotion["id"])] == ["KEPT"]


def test_deleting_a_promotion_frees_its_codes(moltin, promotion):
    add(moltin, promotion["id"], {"code": "FREED"})
    assert moltin.delete(f"/v2/promotions/{promotion['id']}").status_code == 204
    other = moltin.post("/v2/promotions", json={"data": LIVE}).json()["data"]
    assert add(moltin, other["id"], {"code": "FREED"}).status_code == 201


def travel(moltin, clock, moment: datetime) -> None:
    """Move the clock; tokens lapse after an hour, so take a fresh one as the SDK would."""
    clock.freeze(moment)
    moltin.headers["Authorization"] = f"Bearer {token_for(moltin, 'store-1')}"


class TestLifecycle:
    """The vendor page: expired codes stay; re-enabling an expired promotion deletes them."""

    def test_codes_stay_listed_when_the_promotion_expires(self, moltin, clock, promotion):
        add(moltin, promotion["id"], {"code": "OLD"})
        travel(moltin, clock, datetime(2020, 1, 1, tzinfo=timezone.utc))
        assert listed(moltin, promotion["id"]) == [{"code": "OLD", "consume_unit": "per_cart"}]

    def test_reenabling_an_expired_promotion_deletes_its_codes(self, moltin, clock, promotion):
        add(moltin, promotion["id"], {"code": "OLD"})
        travel(moltin, clock, datetime(2020, 1, 1, tzinfo=timezone.utc))
        response = moltin.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "end": "2021-01-01"}})
        assert response.status_code == 200
        assert response.json()["data"]["end"] == "2021-01-01T00:00:00Z"
        assert listed(moltin, promotion["id"]) == []
        # The freed code can live elsewhere now.
        assert add(moltin, promotion["id"], {"code": "OLD"}).status_code == 201

    def test_extending_a_live_promotion_keeps_its_codes(self, moltin, promotion):
        add(moltin, promotion["id"], {"code": "KEPT"})
        response = moltin.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "end": "2025-01-01"}})
        assert response.status_code == 200
        assert listed(moltin, promotion["id"]) == [{"code": "KEPT", "consume_unit": "per_cart"}]

    def test_other_updates_of_an_expired_promotion_keep_its_codes(self, moltin, clock, promotion):
        add(moltin, promotion["id"], {"code": "KEPT"})
        travel(moltin, clock, datetime(2020, 1, 1, tzinfo=timezone.utc))
        response = moltin.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "name": "Renamed"}})
        assert response.status_code == 200
        assert listed(moltin, promotion["id"]) == [{"code": "KEPT", "consume_unit": "per_cart"}]

    def test_reenabling_with_more_than_1000_codes_is_refused(self, moltin, clock, store, promotion):
        # Only reachable through a store filled past the quota; the vendor documents the answer.
        stored = store.get_promotion(tenants.moltin("store-1"), promotion["id"])
        store.add_promotion_codes(tenants.moltin("store-1"), stored, [PromotionCode(code=f"C{n}") for n in range(1001)], 2000)
        travel(moltin, clock, datetime(2020, 1, 1, tzinfo=timezone.utc))
        response = moltin.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "end": "2021-01-01"}})
        assert response.status_code == 422
        assert response.json() == {
            "errors": [{"status": 422, "source": "request", "title": "Unprocessable Entity", "detail": ""}]
        }
        assert store.promotion_code_count(tenants.moltin("store-1"), promotion["id"]) == 1001
        assert replace(store.get_promotion(tenants.moltin("store-1"), promotion["id"])) == stored
