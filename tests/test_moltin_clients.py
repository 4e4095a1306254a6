"""What the vendor's current document and its real clients send, and the refusals around it.

Bodies recorded from the clients' source: the EPCC Terraform provider
(elasticpath/terraform-provider-epcc, external/sdk/epcc/promotion.go and
internal/provider/resource_epcc_promotion.go: every field, `id` empty on create, unset lists as
`[]`) and epcc-cli (external/resources/yaml/promotions.yaml: legacy `{"data": ...}` bodies, a
data-level `consume_unit` for codes).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.test_promotions import KEY, VENDOR_EXAMPLE, error

NOW = datetime(2024, 3, 1, 12, 0, 0, 125000, tzinfo=timezone.utc)
STAMP = "2024-03-01T12:00:00.125Z"


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


def create(moltin, data: dict) -> dict:
    response = moltin.post("/v2/promotions", json={"data": data})
    assert response.status_code == 201, response.text
    return response.json()["data"]


TERRAFORM_CREATE = {
    "id": "",
    "type": "promotion",
    "name": "tf promo",
    "description": "made by terraform",
    "enabled": True,
    "automatic": False,
    "promotion_type": "fixed_discount",
    "start": "2024-01-01",
    "end": "2030-01-01",
    "schema": {"currencies": [{"amount": 900, "currency": "USD"}]},
    "min_cart_value": [],
    "max_discount_value": [],
}


def test_terraform_create_read_update_delete(moltin, clock):
    created = create(moltin, TERRAFORM_CREATE)
    assert created == {
        "type": "promotion",
        "id": created["id"],
        "name": "tf promo",
        "description": "made by terraform",
        "enabled": True,
        "automatic": False,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"amount": 900, "currency": "USD"}]},
        "start": "2024-01-01T00:00:00Z",
        "end": "2030-01-01T00:00:00Z",
        # An empty list is no limit; it comes back as sent, which Terraform reads back into its state.
        "min_cart_value": [],
        "max_discount_value": [],
        "created_by": KEY,
        "updated_by": KEY,
        "created_at": STAMP,
        "updated_at": STAMP,
        "meta": {"timestamps": {"created_at": STAMP, "updated_at": STAMP}},
    }
    update = {**TERRAFORM_CREATE, "id": created["id"], "name": "tf promo 2", "min_cart_value": [{"amount": 5000, "currency": "USD"}]}
    response = moltin.put(f"/v2/promotions/{created['id']}", json={"data": update})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {**created, "name": "tf promo 2", "min_cart_value": [{"amount": 5000, "currency": "USD"}]}}
    assert moltin.delete(f"/v2/promotions/{created['id']}").status_code == 204


def test_epcc_cli_bodies(moltin, clock):
    # `epcc create promotion name ... promotion_type bundle_gift ...`: legacy format, every type it lists.
    data = {
        "type": "promotion",
        "name": "cli",
        "description": "cli",
        "enabled": True,
        "automatic": False,
        "promotion_type": "fixed_discount",
        "start": "2024-01-01",
        "end": "2030-01-01",
        "max_discount_value": [{"amount": 100, "currency": "USD"}],
        "min_cart_value": [{"currency": "USD", "amount": 1000}],
        "max_applications_per_cart": 0,
        "schema": {"currencies": [{"currency": "USD", "amount": 500}], "exclude": {"targets": ["sku-9"]}},
    }
    promotion = create(moltin, data)
    assert promotion["max_applications_per_cart"] == 0
    assert promotion["schema"] == data["schema"]
    # `epcc create promotion-code <promotion> codes[0].code A codes[0].uses 2 codes[0].user u consume_unit per_item`
    body = {"data": {"type": "promotion_codes", "codes": [{"code": "CLI-A", "uses": 2, "user": "u"}], "consume_unit": "per_item"}}
    assert moltin.post(f"/v2/promotions/{promotion['id']}/codes", json=body).status_code == 201
    listed = moltin.get(f"/v2/promotions/{promotion['id']}/codes").json()["data"]
    assert listed == [
        {"code": "CLI-A", "uses": 2, "max_uses": 2, "user": "u", "consume_unit": "per_item", "created_by": KEY,
         "meta": {"timestamps": {"created_at": STAMP}}},
    ]  # fmt: skip


SCHEMAS = {
    "bundle_gift": {"requirements": [{"targets": ["sku-1", "sku-2"], "quantity": 1}], "gifts": ["gift-1"], "auto_add_free_gift": True},
    "item_percent_discount": {"targets": "all", "percent": 12.345678},
    "percent_discount": {"currencies": [{"currency": "USD", "percentage": 7.123456}], "target_catalogs": ["cat-1"]},
    "item_fixed_discount": {
        "target_nodes": ["node-1"],
        "target_attributes": [{"template": "products(shoes)", "field": "brand", "type": "string", "value": "adidas"}],
        "currencies": [{"currency": "USD", "amount": 100}],
        "exclude": {
            "targets": ["sku-3"],
            "nodes": ["node-2"],
            "attributes": [{"template": "t", "field": "color", "type": "string", "value": "yellow"}],
            "conditions": {"or": [{"and": [{"attribute": {"template": "t", "field": "size", "type": "string", "values": ["s"]}},
                                           {"node": {"values": ["node-3"]}}]}]},
        },
    },
    "x_for_y": {"x": 3, "y": 2, "target_conditions": {"or": [{"and": [{"node": {"values": ["n"]}}]}]}},
    "x_for_amount": {"x": 2, "currencies": [{"currency": "EUR", "amount": 1000}], "targets": ["sku-1"], "target_catalogs": ["c"]},
    "bundle_fixed_discount": {"requirements": [{"targets": ["a"], "quantity": 2}], "currencies": [{"currency": "GBP", "amount": 3}]},
}  # fmt: skip


@pytest.mark.parametrize("promotion_type", list(SCHEMAS))
def test_the_current_document_s_schemas(moltin, promotion_type):
    data = create(moltin, {**VENDOR_EXAMPLE, "promotion_type": promotion_type, "schema": SCHEMAS[promotion_type]})
    assert (data["promotion_type"], data["schema"]) == (promotion_type, SCHEMAS[promotion_type])


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"promotion_type": "bundle_gift", "schema": {"requirements": [{"targets": ["a"], "quantity": 1}]}},
            [error(400, "required", "gifts is required", "data.schema.gifts")],
        ),
        (
            {"promotion_type": "item_percent_discount", "schema": {"percent": 5}},
            [error(400, "required", "schema needs targets, target_nodes, target_attributes or target_conditions", "data.schema")],
        ),
        (
            {"promotion_type": "item_percent_discount", "schema": {"targets": "all", "target_nodes": ["n"], "percent": 5}},
            [error(400, "schema", 'targets "all" cannot be used together with target_nodes', "data.schema.targets")],
        ),
        (
            {"promotion_type": "item_percent_discount", "schema": {"targets": "some", "percent": 5}},
            [error(400, "enum", "targets must be one of: all", "data.schema.targets")],
        ),
        (
            {"promotion_type": "item_percent_discount", "schema": {"targets": [], "percent": 5}},
            [error(400, "minItems", "targets must have at least 1 items", "data.schema.targets")],
        ),
        (
            {"min_cart_value": [{"currency": "usd", "amount": 1}]},
            [error(400, "pattern", "currency is not in the expected form", "data.min_cart_value[0].currency")],
        ),
        (
            {"max_discount_value": {"currency": "USD"}},
            [error(400, "required", "amount is required", "data.max_discount_value.amount")],
        ),
        ({"max_applications_per_cart": -1}, [error(400, "minimum", "max_applications_per_cart must be at least 0", "data.max_applications_per_cart")]),
    ],
    ids=["gift-without-gifts", "no-target", "all-with-nodes", "targets-not-all", "targets-empty", "cart-value-currency",
         "discount-value-object", "applications-negative"],
)  # fmt: skip
def test_refusals(moltin, changes, errors):
    response = moltin.post("/v2/promotions", json={"data": {**VENDOR_EXAMPLE, **changes}})
    assert (response.status_code, response.json()) == (400, {"errors": errors})
    assert moltin.get("/v2/promotions").json()["meta"]["results"]["total"] == 0


def test_one_cart_value_object_is_kept_as_sent(moltin):
    # The vendor's schema types min_cart_value as one object; the SDKs send a list. Both are kept.
    data = create(moltin, {**VENDOR_EXAMPLE, "min_cart_value": {"amount": 1000, "currency": "USD"}})
    assert data["min_cart_value"] == {"amount": 1000, "currency": "USD"}


def test_a_code_for_several_customers(moltin, client, clock):
    promotion = create(moltin, {**VENDOR_EXAMPLE, "end": "2099-01-01"})
    codes = [{"code": "FRIENDS", "user": ["alice", "bob"]}]
    assert moltin.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": codes}}).status_code == 201
    assert moltin.get(f"/v2/promotions/{promotion['id']}/codes").json()["data"][0]["user"] == ["alice", "bob"]
    use = "/__codestand/tenants/store-1/promotion-code-uses"
    assert client.post(use, json={"code": "FRIENDS", "user": "bob"}).status_code == 201
    response = client.post(use, json={"code": "FRIENDS", "user": "carol"})
    assert response.status_code == 422


class TestFilters:
    @pytest.fixture
    def two(self, moltin):
        first, second = create(moltin, {**VENDOR_EXAMPLE, "name": "A"}), create(moltin, {**VENDOR_EXAMPLE, "name": "B"})
        codes = [{"code": "SUMMER-1"}, {"code": "WINTER", "consume_unit": "per_item", "uses": 3}]
        moltin.post(f"/v2/promotions/{second['id']}/codes", json={"data": {"type": "promotion_codes", "codes": codes}})
        return first, second

    @pytest.mark.parametrize(
        "query",
        ['eq(code,SUMMER-1)', 'eq(code,"SUMMER-1")', "eq(code,'SUMMER-1')", "eq(code, SUMMER-1)", "eq(code,SUMMER-1):eq(code,WINTER)"],
    )
    def test_promotions_by_code(self, moltin, two, query):
        body = moltin.get("/v2/promotions", params={"filter": query}).json()
        assert [p["id"] for p in body["data"]] == [two[1]["id"]]
        assert body["meta"]["results"] == {"total": 1}

    @pytest.mark.parametrize(
        ("query", "codes"),
        [
            ("eq(code,WINTER)", ["WINTER"]),
            ("like(code,summer*)", ["SUMMER-1"]),
            ("eq(consume_unit,per_item)", ["WINTER"]),
            ("gt(uses,1)", ["WINTER"]),
            ("in(code,WINTER,SUMMER-1)", ["SUMMER-1", "WINTER"]),
            ("eq(code,NONE)", []),
        ],
    )
    def test_codes(self, moltin, two, query, codes):
        body = moltin.get(f"/v2/promotions/{two[1]['id']}/codes", params={"filter": query}).json()
        assert [c["code"] for c in body["data"]] == codes
        assert body["meta"]["results"] == {"total": len(codes)}

    @pytest.mark.parametrize(
        "query",
        ["eq(code,A", "eq(code)", "eq(name,A)", "like(code,A)", "xx(code,A)", "eq(code,a#b)", "eq(code,'open)", "eq(code,A)eq(code,B)",
         ":".join(["eq(code,A)"] * 11), "eq(code," + "A" * 8200 + ")"],
        ids=["unclosed", "no-value", "unknown-attribute", "unsupported-operator", "unknown-operator", "unsupported-character",
             "unclosed-quote", "no-colon", "eleven-filters", "over-8kb"],
    )  # fmt: skip
    def test_bad_filters_get_the_guide_s_400(self, moltin, two, query):
        response = moltin.get("/v2/promotions", params={"filter": query})
        assert (response.status_code, response.json()) == (400, {"errors": [error(400, "Bad Request", "Could not parse the supplied filter")]})

    def test_a_bad_codes_filter(self, moltin, two):
        response = moltin.get(f"/v2/promotions/{two[1]['id']}/codes", params={"filter": "gt(code"})
        assert (response.status_code, response.json()) == (400, {"errors": [error(400, "Bad Request", "Could not parse the supplied filter")]})


def test_attributes(moltin):
    body = moltin.get("/v2/promotions/attributes").json()
    assert body["meta"] == {"entity": "promotion", "version": "1.0.0"}
    assert [a["value"] for a in body["data"]] == [
        "id", "type", "name", "description", "enabled", "automatic", "promotion_type", "schema", "start", "end",
        "min_cart_value", "max_discount_value", "max_applications_per_cart",
    ]  # fmt: skip
    assert body["data"][6] == {
        "label": "Promotion Type", "value": "promotion_type", "type": "string", "required": True,
        "options": ["fixed_discount", "percent_discount", "item_fixed_discount", "item_percent_discount", "x_for_y",
                    "x_for_amount", "bundle_fixed_discount", "bundle_gift"],
    }  # fmt: skip


def test_history(moltin, clock):
    created = create(moltin, VENDOR_EXAMPLE)
    clock.advance(timedelta(seconds=1))
    updated = moltin.put(f"/v2/promotions/{created['id']}", json={"data": {"type": "promotion", "name": "Promo #2"}}).json()["data"]
    response = moltin.get(f"/v2/promotions/{created['id']}/history?page[limit]=1&page[offset]=1")
    url = f"http://testserver/v2/promotions/{created['id']}/history?page[limit]=1&page[offset]={{}}"
    assert response.json() == {
        "data": [updated],
        "links": {"current": url.format(1), "first": url.format(0), "last": url.format(1), "prev": url.format(0), "next": None},
        "meta": {"page": {"limit": 1, "offset": 1, "current": 2, "total": 2}, "results": {"total": 2}},
    }
    assert moltin.get(f"/v2/promotions/{created['id']}/history").json()["data"] == [created, updated]
    assert moltin.delete(f"/v2/promotions/{created['id']}").status_code == 204
    response = moltin.get(f"/v2/promotions/{created['id']}/history")
    assert (response.status_code, response.json()) == (404, {"errors": [error(404, "Not Found", "promotion not found")]})
