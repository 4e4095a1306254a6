"""A snapshot import passes the vendor routes' rules, record by record, and a bad one is refused
whole, naming its first problems; exported CSV cells cannot be spreadsheet formulas.

Before: an import accepted empty and 900,000-character codes, more codes than
`totalCodesCount`, `start` after `end`, an unknown `promotion_type` and codes with `/ ? # %`;
and CSV cells starting with `=`, `+`, `-`, `@` were written as they are. Later: a promotion's
`schema` was not checked against its `promotion_type` (a `bundle_gift` without gifts came in,
and a stored `bundle_gift` could be exported but not imported), `extras` of any name came in
and overrode the vendor's fields (`id`, `type`) in its answers, a store could be given more
promotions and a promotion more codes than the vendor routes allow, and catalog items of any
length, of unknown kinds, or with ids in upper case (then never found) came in.
"""

from __future__ import annotations

import copy

import pytest

from codestand.control.snapshots import MAX_PROBLEMS
from codestand.moltin.promotion_codes import MAX_CODES
from codestand.moltin.promotions import MAX_PROMOTIONS
from tests.conftest import TI_KEY, token_for
from tests.samples import COURSE, GROUP, PROMOTION

TI = f"/__codestand/thoughtindustries/tenants/{TI_KEY}/snapshot"
MOLTIN = "/__codestand/moltin/tenants/store-1/snapshot"


@pytest.fixture
def seeded(ti):
    catalog = {"courses": [{"id": COURSE, "title": "Intro"}], "bundles": [{"id": "b-1", "name": "Bundle"}]}
    assert ti.post(f"/__codestand/thoughtindustries/tenants/{TI_KEY}/catalog", json=catalog).status_code == 200
    group = ti.post("/incoming/v2/redemptionCodes", json={**GROUP, "codeLength": 8, "totalCodesCount": 3}).json()
    moltin = {"Authorization": f"Bearer {token_for(ti, 'store-1')}"}
    promotion = ti.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]
    added = ti.post(
        f"/v2/promotions/{promotion['id']}/codes",
        json={"data": {"type": "promotion_codes", "codes": [{"code": "SAVE-1", "uses": 2}]}},
        headers=moltin,
    )
    assert added.status_code == 201, added.text
    return ti, ti.get(TI).json(), ti.get(MOLTIN).json(), group


def refused(client, path: str, snapshot: dict, before: dict) -> list[dict]:
    response = client.put(path, json=snapshot)
    assert response.status_code == 400, response.text
    assert client.get(path).json() == before  # nothing changed
    return response.json()["errors"]


def bad_snapshot(field: str, reason: str) -> dict:
    """One error object of a refused import, as the control plane answers it."""
    return {"status": 400, "title": "Bad snapshot", "detail": f"The snapshot cannot be restored: {field}: {reason}", "source": field}


@pytest.mark.parametrize(
    ("change", "source"),
    [
        (lambda g: g["codes"].__setitem__(0, ""), "redemptionCodeGroups[0].codes[0]"),
        (lambda g: g["codes"].__setitem__(0, "a" * 900_000), "redemptionCodeGroups[0].codes[0]"),
        (lambda g: g["codes"].__setitem__(0, "a/b?#%cd"), "redemptionCodeGroups[0].codes[0]"),
        (lambda g: g["codes"].__setitem__(0, "=cmd|calc"), "redemptionCodeGroups[0].codes[0]"),
        (lambda g: g["codes"].append("abcd1234"), "redemptionCodeGroups[0].codes"),
        (lambda g: g["codes"].__setitem__(0, "abc12"), "redemptionCodeGroups[0].codes[0]"),
        (lambda g: g.__setitem__("label", ""), "redemptionCodeGroups[0].label"),
        # A generated group's codes are of the generator's alphabet and at least 4 long; an
        # uploaded one's may hold `-` and be shorter (below).
        (lambda g: g["codes"].__setitem__(0, "abcd-123"), "redemptionCodeGroups[0].codes[0]"),
        (lambda g: g.update(codeLength=3, codes=["ab1", "ab2", "ab3"]), "redemptionCodeGroups[0].codeLength"),
    ],
)
def test_a_group_the_vendor_route_would_refuse(seeded, change, source):
    client, ti, _, _ = seeded
    bad = copy.deepcopy(ti)
    change(bad["redemptionCodeGroups"][0])
    errors = refused(client, TI, bad, ti)
    assert errors[0]["source"] == source, errors


@pytest.mark.parametrize(
    ("change", "source"),
    [
        (lambda p: p.__setitem__("promotion_type", "free_money"), "promotions[0].promotion_type"),
        (lambda p: p.__setitem__("start", p["end"]), "promotions[0].end"),
        (lambda p: p["codes"][0].__setitem__("code", "a/b"), "promotions[0].codes[0].code"),
        (lambda p: p["codes"][0].__setitem__("code", "x?y#z%"), "promotions[0].codes[0].code"),
        (lambda p: p["codes"][0].__setitem__("code", ""), "promotions[0].codes[0].code"),
        (lambda p: p["codes"][0].__setitem__("code", "C" * 101), "promotions[0].codes[0].code"),
        (lambda p: p["codes"][0].__setitem__("used", 3), "promotions[0].codes[0].used"),
    ],
)
def test_a_promotion_the_vendor_route_would_refuse(seeded, change, source):
    client, _, moltin, _ = seeded
    bad = copy.deepcopy(moltin)
    change(bad["promotions"][0])
    errors = refused(client, MOLTIN, bad, moltin)
    assert errors[0]["source"] == source, errors


def test_the_first_problems_are_named_all_at_once(seeded):
    client, ti, _, _ = seeded
    bad = copy.deepcopy(ti)
    bad["redemptionCodeGroups"][0]["codes"] = ["abc12"] * 3
    bad["redemptionCodeGroups"][0]["totalCodesCount"] = 3
    errors = refused(client, TI, bad, ti)
    assert [e["source"] for e in errors] == [f"redemptionCodeGroups[0].codes[{n}]" for n in range(3)]
    assert errors[0]["detail"] == (
        "The snapshot cannot be restored: redemptionCodeGroups[0].codes[0]: abc12 is not 8 characters long (codeLength)"
    )


def test_a_good_snapshot_still_round_trips(seeded):
    client, ti, moltin, _ = seeded
    assert client.put(TI, json=ti).status_code == 204
    assert client.put(MOLTIN, json=moltin).status_code == 204
    assert (client.get(TI).json(), client.get(MOLTIN).json()) == (ti, moltin)


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_escaped():
    from codestand.control.tenant_routes import spreadsheet_safe

    assert [spreadsheet_safe(c) for c in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "abc", "a=b")] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "abc", "a=b",
    ]


def test_an_uploaded_gift_group_round_trips_with_its_own_codes(ti):
    uploaded = ti.post(
        f"/__codestand/tenants/{TI_KEY}/redemption-code-groups",
        json={"label": "Partner", "courses": [COURSE], "codes": ["partner-001", "ab"], "gift": True},
    )
    assert uploaded.status_code == 201, uploaded.text
    snapshot = ti.get(TI).json()
    group = snapshot["redemptionCodeGroups"][0]
    assert (group["uploaded"], group["gift"], group["codeLength"], group["codes"]) == (True, True, 11, ["partner-001", "ab"])
    assert ti.post(f"/__codestand/thoughtindustries/tenants/{TI_KEY}/reset", headers={"X-Codestand": "1"}).status_code == 204
    assert ti.put(TI, json=snapshot).status_code == 204
    assert ti.get(TI).json() == snapshot
    listed = ti.get(f"/incoming/v2/redemptionCodes/{group['id']}").json()
    assert (listed["uploaded"], listed["gift"]) == (True, True)


# One valid `schema` of each promotion type the vendor route takes (openapi.yaml, MoltinPromotionFields).
SCHEMAS = {
    "fixed_discount": {"currencies": [{"currency": "USD", "amount": 900}]},
    "percent_discount": {"currencies": [{"currency": "USD", "percentage": 12.5}]},
    "x_for_y": {"x": 3, "y": 2, "targets": ["sku-1"]},
    "x_for_amount": {"x": 3, "currencies": [{"currency": "USD", "amount": 1000}], "targets": ["sku-1"]},
    "bundle_fixed_discount": {"requirements": [{"targets": ["sku-1"], "quantity": 2}], "currencies": [{"currency": "EUR", "amount": 500}]},
    "item_fixed_discount": {"targets": ["sku-1"], "currencies": [{"currency": "GBP", "amount": 100}]},
    "item_percent_discount": {"targets": "all", "percent": 10, "exclude": {"targets": ["sku-2"]}},
    "bundle_gift": {"requirements": [{"targets": ["sku-1"], "quantity": 1}], "gifts": ["sku-9"], "auto_add_free_gift": True},
}
# What `moltin.promotions.create` keeps besides the promotion's own fields (the snapshot's `extras`).
EXTRAS = {"min_cart_value": [{"currency": "USD", "amount": 1000}], "max_discount_value": [], "max_applications_per_cart": 2}
TARGETS = "schema needs targets, target_nodes, target_attributes or target_conditions"


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        pytest.param(
            {"promotion_type": "x_for_y"},
            [("schema", TARGETS), ("schema.x", "x is required"), ("schema.y", "y is required")],
            id="a-fixed-discount-schema-as-x-for-y",
        ),
        pytest.param(
            {"promotion_type": "bundle_gift", "schema": {"requirements": [{"targets": ["sku-1"], "quantity": 1}]}},
            [("schema.gifts", "gifts is required")],
            id="a-bundle-gift-without-gifts",
        ),
        pytest.param(
            {"promotion_type": "bundle_gift", "schema": {"requirements": [], "gifts": ["sku-9"]}},
            [("schema.requirements", "requirements must have at least 1 items")],
            id="a-bundle-gift-without-requirements",
        ),
        pytest.param(
            {"promotion_type": "fixed_discount", "schema": SCHEMAS["x_for_y"]},
            [("schema.currencies", "currencies is required")],
            id="an-x-for-y-schema-as-fixed-discount",
        ),
        pytest.param(
            {"promotion_type": "item_percent_discount", "schema": {"targets": "all", "target_nodes": ["n"], "percent": 101}},
            [("schema.percent", "percent must be at most 100"), ("schema.targets", 'targets "all" cannot be used together with target_nodes')],
            id="an-item-percent-discount-of-all-and-nodes",
        ),
        pytest.param(
            {"schema": {"currencies": [{"currency": "usd", "amount": -1}]}},
            [("schema.currencies[0].amount", "amount must be at least 0"), ("schema.currencies[0].currency", "currency is not in the expected form")],
            id="a-lower-case-currency-and-a-negative-amount",
        ),
        pytest.param(
            {"promotion_type": "bundle_gift"},
            [("schema.gifts", "gifts is required"), ("schema.requirements", "requirements is required")],
            id="a-bundle-gift-of-a-fixed-discount-schema",
        ),
        pytest.param({"name": "n" * 256}, [("name", "name must be at most 255 characters long")], id="a-name-of-256"),
        pytest.param({"name": ""}, [("name", "name must be at least 1 characters long")], id="an-empty-name"),
        pytest.param({"description": "d" * 1001}, [("description", "description must be at most 1000 characters long")], id="a-description-of-1001"),
        pytest.param(
            {"max_applications_per_cart": -1, "min_cart_value": [{"currency": "USD", "amount": 2**63}]},
            [
                ("extras.max_applications_per_cart", "max_applications_per_cart must be at least 0"),
                ("extras.min_cart_value[0].amount", "amount must be at most 9223372036854775807"),
            ],
            id="extras-out-of-range",
        ),
    ],
)
def test_a_promotion_the_create_route_would_refuse_is_refused_in_its_words(seeded, changes, problems):
    client, _, moltin, _ = seeded
    bad = copy.deepcopy(moltin)
    record = bad["promotions"][0]
    for key, value in changes.items():
        (record.setdefault("extras", {}) if key in EXTRAS else record)[key] = value
    response = client.put(MOLTIN, json=bad)
    assert (response.status_code, response.json()) == (400, {"errors": [bad_snapshot(f"promotions[0].{f}", r) for f, r in problems]})
    assert client.get(MOLTIN).json() == moltin  # nothing changed
    # The vendor route refuses the same promotion for the same reasons, in the same words.
    vendor = client.post(
        "/v2/promotions", json={"data": {**PROMOTION["data"], **changes}}, headers={"Authorization": f"Bearer {token_for(client, 'store-1')}"}
    )
    assert vendor.status_code == 400, vendor.text
    assert sorted((e["source"], e["detail"]) for e in vendor.json()["errors"]) == sorted((f"data.{f.removeprefix('extras.')}", r) for f, r in problems)


def test_extras_are_only_what_the_vendor_route_keeps(seeded):
    # `extras` are spread into the vendor's promotion object: an `id` or `type` there replaced
    # the promotion's own in every answer.
    client, _, moltin, _ = seeded
    bad = copy.deepcopy(moltin)
    bad["promotions"][0]["extras"] = {"id": "not-this-one", "type": "free_money", "max_applications_per_cart": 1}
    response = client.put(MOLTIN, json=bad)
    kept = "extras are min_cart_value, max_discount_value, max_applications_per_cart"
    assert (response.status_code, response.json()) == (400, {"errors": [
        bad_snapshot("promotions[0].extras.id", f"id is not a field the vendor route keeps ({kept})"),
        bad_snapshot("promotions[0].extras.type", f"type is not a field the vendor route keeps ({kept})"),
    ]})
    assert client.get(MOLTIN).json() == moltin


def test_no_more_promotions_nor_codes_than_the_vendor_routes_allow(seeded):
    client, _, moltin, _ = seeded
    bad = copy.deepcopy(moltin)
    first = bad["promotions"][0]
    bad["promotions"] += [{**first, "id": f"00000000-0000-4000-8000-{n:012d}", "codes": []} for n in range(MAX_PROMOTIONS)]
    first["codes"] += [{"code": f"MORE-{n}"} for n in range(MAX_CODES)]
    response = client.put(MOLTIN, json=bad)
    assert (response.status_code, response.json()) == (400, {"errors": [
        bad_snapshot("promotions", f"{MAX_PROMOTIONS + 1} promotions where a store holds at most {MAX_PROMOTIONS}"),
        bad_snapshot("promotions[0].codes", f"{MAX_CODES + 1} codes where a promotion holds at most {MAX_CODES}"),
    ]})
    assert client.get(MOLTIN).json() == moltin


@pytest.mark.parametrize(
    ("user", "error"),
    [
        ([], {"status": 400, "title": "minItems", "detail": "user must have at least 1 items", "source": "promotions[0].codes[0].user"}),
        ([f"u{n}" for n in range(101)], {"status": 400, "title": "maxItems", "detail": "user must have at most 100 items", "source": "promotions[0].codes[0].user"}),
    ],
)
def test_a_code_keeps_as_many_users_as_the_vendor_route_takes(seeded, user, error):
    client, _, moltin, _ = seeded
    bad = copy.deepcopy(moltin)
    bad["promotions"][0]["codes"][0]["user"] = user
    response = client.put(MOLTIN, json=bad)
    assert (response.status_code, response.json()) == (400, {"errors": [error]})
    assert client.get(MOLTIN).json() == moltin


def test_the_first_problems_of_many_promotions_are_named(seeded):
    client, _, moltin, _ = seeded
    bad = copy.deepcopy(moltin)
    gift = {**bad["promotions"][0], "promotion_type": "bundle_gift", "schema": {"requirements": [{"targets": ["a"], "quantity": 1}]}, "codes": []}
    bad["promotions"] = [{**gift, "id": f"00000000-0000-4000-8000-{n:012d}"} for n in range(MAX_PROBLEMS + 2)]
    response = client.put(MOLTIN, json=bad)
    assert (response.status_code, response.json()) == (
        400, {"errors": [bad_snapshot(f"promotions[{n}].schema.gifts", "gifts is required") for n in range(MAX_PROBLEMS)]}
    )
    assert client.get(MOLTIN).json() == moltin


def test_a_bad_promotion_leaves_the_other_vendors_tenant_of_the_name_as_it_was(ti):
    # `/__codestand/tenants/{name}/snapshot` restores both vendors' tenants of a name: neither is written.
    path = f"/__codestand/tenants/{TI_KEY}/snapshot"
    assert ti.post("/incoming/v2/redemptionCodes", json=GROUP).status_code == 201
    moltin = {"Authorization": f"Bearer {token_for(ti, TI_KEY)}"}
    assert ti.post("/v2/promotions", json=PROMOTION, headers=moltin).status_code == 201
    before = ti.get(path).json()
    bad = copy.deepcopy(before)
    bad["promotions"][0]["promotion_type"] = "bundle_gift"
    bad["redemptionCodeGroups"] = []
    response = ti.put(path, json=bad)
    assert response.status_code == 400, response.text
    assert [e["source"] for e in response.json()["errors"]] == ["promotions[0].schema.gifts", "promotions[0].schema.requirements"]
    assert ti.get(path).json() == before


@pytest.mark.parametrize("promotion_type", sorted(SCHEMAS))
def test_a_promotion_of_every_type_round_trips(ti, promotion_type):
    moltin = {"Authorization": f"Bearer {token_for(ti, 'store-1')}"}
    data = {**PROMOTION["data"], "promotion_type": promotion_type, "schema": SCHEMAS[promotion_type], **EXTRAS}
    created = ti.post("/v2/promotions", json={"data": data}, headers=moltin)
    assert created.status_code == 201, created.text
    promotion = created.json()["data"]
    codes = {"data": {"type": "promotion_codes", "codes": [{"code": "ONE", "uses": 2, "user": ["u1", "u2"], "consume_unit": "per_item"}]}}
    assert ti.post(f"/v2/promotions/{promotion['id']}/codes", json=codes, headers=moltin).status_code == 201
    snapshot = ti.get(MOLTIN).json()
    assert snapshot["promotions"][0]["extras"] == EXTRAS
    answered = ti.get(f"/v2/promotions/{promotion['id']}", headers=moltin).json()
    assert ti.post("/__codestand/moltin/tenants/store-1/reset", headers={"X-Codestand": "1"}).status_code == 204
    assert ti.put(MOLTIN, json=snapshot).status_code == 204
    assert ti.get(MOLTIN).json() == snapshot
    assert ti.get(f"/v2/promotions/{promotion['id']}", headers=moltin).json() == answered


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param(
            lambda c: c["courses"][0].__setitem__("name", "n" * 256),
            {"status": 400, "title": "maxLength", "detail": "name must be at most 255 characters long", "source": "catalog.courses[0].name"},
            id="a-course-name-of-256",
        ),
        pytest.param(
            lambda c: c["bundles"][0].__setitem__("id", "b" * 101),
            {"status": 400, "title": "maxLength", "detail": "id must be at most 100 characters long", "source": "catalog.bundles[0].id"},
            id="a-bundle-id-of-101",
        ),
        pytest.param(
            lambda c: c["licenses"].append({"id": "", "name": "A license"}),
            {"status": 400, "title": "minLength", "detail": "id must be at least 1 characters long", "source": "catalog.licenses[0].id"},
            id="an-empty-license-id",
        ),
        pytest.param(
            lambda c: c["clients"].append({"id": "c-1", "name": ""}),
            {"status": 400, "title": "minLength", "detail": "name must be at least 1 characters long", "source": "catalog.clients[0].name"},
            id="an-empty-client-name",
        ),
        pytest.param(
            lambda c: c.__setitem__("widgets", [{"id": "w-1", "name": "A widget"}]),
            {"status": 400, "title": "Unknown field", "detail": "widgets is not a field of this body", "source": "catalog.widgets"},
            id="a-kind-the-catalog-does-not-have",
        ),
    ],
)
def test_a_catalog_item_the_catalog_route_would_refuse(seeded, change, error):
    client, ti, _, _ = seeded
    bad = copy.deepcopy(ti)
    change(bad["catalog"])
    response = client.put(TI, json=bad)
    assert (response.status_code, response.json()) == (400, {"errors": [error]})
    assert client.get(TI).json() == ti


def test_catalog_ids_are_kept_in_lower_case_as_the_catalog_route_keeps_them(ti):
    own = "0E1F2A3B-4C5D-4E6F-8A7B-9C0D1E2F3A4B"
    snapshot = ti.get(TI).json()
    snapshot["catalog"]["courses"] = [{"id": own, "name": "Our own course"}]
    assert ti.put(TI, json=snapshot).status_code == 204
    assert ti.get(TI).json()["catalog"]["courses"] == [{"id": own.lower(), "name": "Our own course"}]
    # Found by the id a group names, as one added by the catalog route is.
    group = ti.post("/incoming/v2/redemptionCodes", json={**GROUP, "courses": [own]})
    assert group.status_code == 201, group.text
    assert group.json()["courses"] == [{"id": own.lower(), "title": "Our own course"}]
