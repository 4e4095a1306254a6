"""Moltin promotions: create, read, list, update, delete, with the vendor's shapes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from codestand.core.models import Promotion

NOW = datetime(2018, 5, 10, 15, 25, 21, 164000, tzinfo=timezone.utc)
# What `created_by` / `updated_by` say for the client_id `store-1` (the vendor's `Key-...` form).
KEY = "Key-4816473547432577975"

VENDOR_EXAMPLE = {
    "type": "promotion",
    "name": "Promo #1",
    "description": "Initial Promotion",
    "enabled": True,
    "promotion_type": "fixed_discount",
    "schema": {"currencies": [{"currency": "USD", "amount": 900}, {"currency": "GBP", "amount": 1100}]},
    "start": "2017-11-13",
    "end": "2019-11-13",
}

SCHEMAS = {
    "fixed_discount": {"currencies": [{"currency": "USD", "amount": 900}]},
    "percent_discount": {"currencies": [{"currency": "USD", "percentage": 12.5}]},
    "x_for_y": {"x": 3, "y": 2, "targets": ["sku-1"]},
    "x_for_amount": {"x": 3, "currencies": [{"currency": "USD", "amount": 1000}], "targets": ["sku-1"]},
    "bundle_fixed_discount": {
        "requirements": [{"targets": ["sku-1"], "quantity": 2}],
        "currencies": [{"currency": "EUR", "amount": 500}],
    },
    "item_fixed_discount": {"targets": ["sku-1"], "currencies": [{"currency": "GBP", "amount": 100}]},
    "item_percent_discount": {"targets": "all", "percent": 10},
}


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


def create(moltin, **changes) -> dict:
    response = moltin.post("/v2/promotions", json={"data": {**VENDOR_EXAMPLE, **changes}})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_create_answers_the_vendor_example(moltin, clock):
    response = moltin.post("/v2/promotions", json={"data": VENDOR_EXAMPLE})
    assert response.status_code == 201
    body = response.json()
    promotion_id = body["data"]["id"]
    assert uuid.UUID(promotion_id)
    assert body == {
        "data": {
            "type": "promotion",
            "id": promotion_id,
            "name": "Promo #1",
            "description": "Initial Promotion",
            "enabled": True,
            # Always there: the vendor's promotion schema requires it.
            "automatic": False,
            "promotion_type": "fixed_discount",
            "schema": {"currencies": [{"currency": "USD", "amount": 900}, {"currency": "GBP", "amount": 1100}]},
            "start": "2017-11-13T00:00:00Z",
            "end": "2019-11-13T00:00:00Z",
            "created_by": KEY,
            "updated_by": KEY,
            "created_at": "2018-05-10T15:25:21.164Z",
            "updated_at": "2018-05-10T15:25:21.164Z",
            # Both SDKs' `Promotion` type reads the timestamps here.
            "meta": {"timestamps": {"created_at": "2018-05-10T15:25:21.164Z", "updated_at": "2018-05-10T15:25:21.164Z"}},
        }
    }
    # Field order is the vendor page's, then the fields the current vendor document adds.
    assert list(body["data"]) == [
        "type", "id", "name", "description", "enabled", "automatic", "promotion_type", "schema", "start", "end",
        "created_by", "updated_by", "created_at", "updated_at", "meta",
    ]


@pytest.mark.parametrize("promotion_type", list(SCHEMAS))
def test_every_promotion_type_is_accepted(moltin, promotion_type):
    data = create(moltin, promotion_type=promotion_type, schema=SCHEMAS[promotion_type])
    assert data["promotion_type"] == promotion_type
    assert data["schema"] == SCHEMAS[promotion_type]


def test_optional_fields_are_echoed_only_when_sent(moltin):
    data = create(moltin, automatic=False, min_cart_value=[{"currency": "USD", "amount": 5000}], max_applications_per_cart=2)
    assert data["automatic"] is False
    assert data["min_cart_value"] == [{"currency": "USD", "amount": 5000}]
    assert data["max_applications_per_cart"] == 2
    assert "max_discount_value" not in data


def test_dates_are_returned_as_rfc3339_utc(moltin):
    data = create(moltin, start="2017-11-13T10:00:00+02:00", end="2019-11-13T23:59:59.5Z")
    assert (data["start"], data["end"]) == ("2017-11-13T08:00:00Z", "2019-11-13T23:59:59.500Z")


def error(status, title, detail=None, source=None):
    obj = {"status": status, "title": title}
    if detail is not None:
        obj["detail"] = detail
    if source is not None:
        obj["source"] = source
    return obj


def without(key):
    return {k: v for k, v in VENDOR_EXAMPLE.items() if k != key}


@pytest.mark.parametrize(
    ("data", "status", "errors"),
    [
        (without("enabled"), 400, [error(400, "required", "enabled is required", "data.enabled")]),
        (
            {"type": "promotion"},
            400,
            [
                error(400, "required", f"{name} is required", f"data.{name}")
                for name in ("description", "enabled", "end", "name", "promotion_type", "schema", "start")
            ],
        ),
        ({**VENDOR_EXAMPLE, "type": "promotions"}, 400, [error(400, "type", "type must be promotion", "data.type")]),
        ({**VENDOR_EXAMPLE, "enabled": "yes"}, 400, [error(400, "type", "enabled must be a boolean", "data.enabled")]),
        (
            {**VENDOR_EXAMPLE, "promotion_type": "free_lunch"},
            400,
            [
                error(
                    400,
                    "enum",
                    "promotion_type must be one of: fixed_discount, percent_discount, x_for_y, x_for_amount, "
                    "bundle_fixed_discount, item_fixed_discount, item_percent_discount, bundle_gift",
                    "data.promotion_type",
                ),
                error(400, "schema", "schema does not match what promotion_type free_lunch requires", "data.schema"),
            ],
        ),
        (
            {**VENDOR_EXAMPLE, "schema": {"currencies": [{"currency": "USD", "amount": 9.5}]}},
            400,
            [error(400, "type", "amount must be an integer", "data.schema.currencies[0].amount")],
        ),
        (
            # Kept, it would come back beyond what the vendor's JSON holds in a 64-bit integer.
            {**VENDOR_EXAMPLE, "schema": {"currencies": [{"currency": "USD", "amount": 2**63}]}},
            400,
            [error(400, "maximum", "amount must be at most 9223372036854775807", "data.schema.currencies[0].amount")],
        ),
        (
            {**VENDOR_EXAMPLE, "promotion_type": "x_for_y", "schema": {"x": 3, "targets": []}},
            400,
            [
                error(400, "required", "y is required", "data.schema.y"),
                error(400, "minItems", "targets must have at least 1 items", "data.schema.targets"),
            ],
        ),
        (
            {**VENDOR_EXAMPLE, "promotion_type": "item_percent_discount", "schema": {"targets": "all", "percentage": 5}},
            400,
            [error(400, "required", "percent is required", "data.schema.percent")],
        ),
        (
            {**VENDOR_EXAMPLE, "start": "13/11/2017"},
            400,
            [error(400, "format", "start must be a date (yyyy-mm-dd) or an RFC 3339 date-time", "data.start")],
        ),
        (
            {**VENDOR_EXAMPLE, "start": "2019-11-13", "end": "2017-11-13"},
            422,
            [error(422, "Unprocessable Entity", "end must be after start", "data.end")],
        ),
    ],
    ids=[
        "vendor-doc-missing-enabled",
        "everything-missing",
        "wrong-type",
        "enabled-not-boolean",
        "unknown-promotion-type",
        "fractional-amount",
        "amount-beyond-64-bits",
        "x-for-y-incomplete",
        "item-percent-key-is-percent",
        "not-a-date",
        "end-before-start",
    ],
)
def test_create_problems(moltin, data, status, errors):
    response = moltin.post("/v2/promotions", json={"data": data})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": errors}
    assert moltin.get("/v2/promotions").json()["meta"]["results"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (b"{", [error(400, "Bad Request", "The request body is not valid JSON")]),
        (b"[]", [error(400, "Bad Request", "The request body must be a JSON object")]),
        (b"{}", [error(400, "required", "data is required", "data")]),
        (b'{"data": [1]}', [error(400, "type", "data must be an object", "data")]),
    ],
    ids=["truncated", "array", "no-data", "data-not-object"],
)
def test_malformed_bodies(moltin, body, errors):
    response = moltin.post("/v2/promotions", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"errors": errors}


def _with_junk_in_schema(junk: str) -> bytes:
    """The vendor example with `junk` beside `currencies`, where the schema allows more fields."""
    return json.dumps({"data": VENDOR_EXAMPLE}).replace('"currencies": [', f'"junk": {junk}, "currencies": [', 1).encode()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        # Kept, it would come back as `Infinity`, which no JSON parser reads.
        (_with_junk_in_schema("1e400"), [error(400, "Bad Request", "The request body is not valid JSON")]),
        (_with_junk_in_schema("-1e999"), [error(400, "Bad Request", "The request body is not valid JSON")]),
        # Kept, a body nested nearly as deep as Python's recursion limit parses, but the answers
        # that wrap it (the list, the snapshot) no longer fit: a 500 on every later read.
        (_with_junk_in_schema("[" * 65 + "]" * 65), [error(400, "Bad Request", "The request body is nested more than 64 levels deep")]),
        (_with_junk_in_schema("[" * 500 + "]" * 500), [error(400, "Bad Request", "The request body is nested more than 64 levels deep")]),
        (_with_junk_in_schema('"a\\u0000b"'), [error(400, "Bad Request", "The request body must not contain NUL characters")]),
    ],
    ids=["float-beyond-double", "negative-float-beyond-double", "nested-65", "nested-500", "nul-character"],
)
def test_bodies_no_answer_could_carry_are_refused(moltin, body, errors):
    response = moltin.post("/v2/promotions", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"errors": errors})
    assert moltin.get("/v2/promotions").json()["meta"]["results"]["total"] == 0


def test_a_body_nested_64_levels_is_accepted(moltin):
    body = _with_junk_in_schema("[" * 60 + "]" * 60)  # 4 levels above it: data, schema, junk's
    assert moltin.post("/v2/promotions", content=body, headers={"Content-Type": "application/json"}).status_code == 201


def test_get_update_delete(moltin, clock):
    created = create(moltin)
    path = f"/v2/promotions/{created['id']}"
    assert moltin.get(path).json() == {"data": created}

    clock.advance(timedelta(seconds=57, milliseconds=39))
    response = moltin.put(path, json={"data": {"type": "promotion", "name": "Promo #2", "enabled": False}})
    assert response.status_code == 200
    updated = {
        **created,
        "name": "Promo #2",
        "enabled": False,
        "updated_at": "2018-05-10T15:26:18.203Z",
        "meta": {"timestamps": {"created_at": created["created_at"], "updated_at": "2018-05-10T15:26:18.203Z"}},
    }
    assert response.json() == {"data": updated}
    assert moltin.get(path).json() == {"data": updated}

    response = moltin.delete(path)
    assert (response.status_code, response.content) == (204, b"")
    response = moltin.get(path)
    assert response.status_code == 404
    assert response.json() == {"errors": [error(404, "Not Found", "promotion not found")]}


@pytest.mark.parametrize(
    ("data", "status", "errors"),
    [
        (
            {"type": "promotion", "promotion_type": "x_for_y"},
            400,
            [error(400, "required", "promotion_type and schema must be sent together", "data")],
        ),
        ({"type": "promotion", "end": "2016-01-01"}, 422, [error(422, "Unprocessable Entity", "end must be after start", "data.end")]),
        ({"name": "x"}, 400, [error(400, "required", "type is required", "data.type")]),
    ],
    ids=["type-without-schema", "end-before-stored-start", "no-type"],
)
def test_update_problems(moltin, data, status, errors):
    created = create(moltin)
    response = moltin.put(f"/v2/promotions/{created['id']}", json={"data": data})
    assert response.status_code == status
    assert response.json() == {"errors": errors}
    assert moltin.get(f"/v2/promotions/{created['id']}").json() == {"data": created}


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unknown_promotion(moltin, method):
    kwargs = {"json": {"data": {"type": "promotion"}}} if method == "put" else {}
    response = getattr(moltin, method)("/v2/promotions/no-such-id", **kwargs)
    assert response.status_code == 404
    assert response.json() == {"errors": [error(404, "Not Found", "promotion not found")]}


def test_empty_list_carries_links_and_meta(moltin):
    # 25 a page unless asked: the current pagination guide's default length.
    response = moltin.get("/v2/promotions")
    base = "http://testserver/v2/promotions?page[limit]=25&page[offset]=0"
    assert response.json() == {
        "data": [],
        "links": {"current": base, "first": base, "last": base, "prev": None, "next": None},
        "meta": {"page": {"limit": 25, "offset": 0, "current": 1, "total": 0}, "results": {"total": 0}},
    }


def test_list_pages(moltin):
    ids = [create(moltin, name=f"P{n}")["id"] for n in range(5)]
    response = moltin.get("/v2/promotions?page[limit]=2&page[offset]=2")
    body = response.json()
    url = "http://testserver/v2/promotions?page[limit]=2&page[offset]={}"
    assert [p["id"] for p in body["data"]] == ids[2:4]
    assert body["links"] == {
        "current": url.format(2),
        "first": url.format(0),
        "last": url.format(4),
        "prev": url.format(0),
        "next": url.format(4),
    }
    assert body["meta"] == {"page": {"limit": 2, "offset": 2, "current": 2, "total": 3}, "results": {"total": 5}}


@pytest.mark.parametrize(
    ("query", "parameter", "detail"),
    [
        ("page[limit]=0", "page[limit]", "page[limit] is invalid: 0 is less than the minimum of 1"),
        ("page[limit]=101", "page[limit]", "page[limit] is invalid: 101 is greater than the maximum of 100"),
        ("page[limit]=ten", "page[limit]", "page[limit] is invalid: 'ten' is not of type 'integer'"),
        ("page[offset]=-1", "page[offset]", "page[offset] is invalid: -1 is less than the minimum of 0"),
        ("page[offset]=10001", "page[offset]", "page[offset] is invalid: 10001 is greater than the maximum of 10000"),
        # One of the two was taken, which one a guess.
        ("page[limit]=1&page[limit]=100", "page[limit]", "page[limit] is sent more than once"),
        ("page%5Boffset%5D=0&page[offset]=0", "page[offset]", "page[offset] is sent more than once"),
        ("filter=eq(code,A)&filter=eq(code,B)", "filter", "filter is sent more than once"),
    ],
)
def test_bad_paging_names_the_parameter(moltin, query, parameter, detail):
    response = moltin.get(f"/v2/promotions?{query}")
    assert response.status_code == 400
    assert response.json() == {"errors": [error(400, "Bad Request", detail, parameter)]}


def test_filter_by_code(moltin):
    first, second = create(moltin, name="A"), create(moltin, name="B")
    moltin.post(f"/v2/promotions/{second['id']}/codes", json={"data": {"type": "promotion_codes", "codes": [{"code": "SUMMER"}]}})
    body = moltin.get("/v2/promotions?filter=eq(code,SUMMER)").json()
    assert [p["id"] for p in body["data"]] == [second["id"]]
    assert body["links"]["current"] == "http://testserver/v2/promotions?page[limit]=25&page[offset]=0&filter=eq(code,SUMMER)"
    assert moltin.get("/v2/promotions?filter=eq(code,NOPE)").json()["data"] == []
    assert first["id"] != second["id"]


def test_at_most_1000_promotions_a_store(moltin, store):
    for n in range(1000):
        store.add_promotion(
            "moltin:store-1",  # the store's key of client_id store-1
            Promotion(
                id=f"p{n}", name="p", description="", enabled=True, promotion_type="fixed_discount",
                schema={}, start=NOW, end=NOW, created_at=NOW, updated_at=NOW,
            ),
            1000,
        )
    response = moltin.post("/v2/promotions", json={"data": VENDOR_EXAMPLE})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [error(400, "Too many promotions", "Only 1000 promotions are allowed per store")]
    }
