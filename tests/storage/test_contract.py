"""The storage contract: every backend answers these the same (the `store` fixture runs both)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from codestand.core.models import (
    CatalogItem,
    Page,
    Promotion,
    PromotionCode,
    PromotionJob,
    PromotionUsage,
    RedemptionEvent,
    RedemptionGroup,
    Token,
)
from codestand.storage.base import AlreadyUsed, CodesTaken, QuotaExceeded
from tests.conftest import TEST_STORES

T0 = datetime(2025, 5, 10, 15, 25, 21, 164_123, tzinfo=timezone.utc)
_ids = itertools.count(1)


def group(label: str = "Spring", *, total: int = 3, length: int = 6, **fields) -> RedemptionGroup:
    n = next(_ids)
    return RedemptionGroup(
        id=f"group-{n}", label=label, code_length=length, total_codes=total, created_at=T0 + timedelta(seconds=n), **fields
    )


def promotion(name: str = "Ten off", **fields) -> Promotion:
    n = next(_ids)
    values = dict(
        id=f"promotion-{n}",
        name=name,
        description="ten percent",
        enabled=True,
        promotion_type="fixed_discount",
        schema={"currencies": [{"currency": "USD", "amount": 900}]},
        start=T0,
        end=T0 + timedelta(days=30),
        created_at=T0,
        updated_at=T0,
    )
    return Promotion(**{**values, **fields})


def codes(*names: str) -> list[PromotionCode]:
    return [PromotionCode(code=name) for name in names]


# Catalog -------------------------------------------------------------------------------


def test_catalog_items_are_the_tenants_own_of_that_kind(store):
    store.put_catalog_items("a", "courses", [CatalogItem("c1", "Course one"), CatalogItem("c2", "Course two")])
    store.put_catalog_items("b", "courses", [CatalogItem("c3", "Other tenant")])
    store.put_catalog_items("a", "bundles", [CatalogItem("c3", "A bundle")])

    assert store.catalog_items("a", "courses", ["c1", "c3", "nope"]) == {"c1": CatalogItem("c1", "Course one")}
    assert store.catalog_items("b", "courses", ["c1", "c3"]) == {"c3": CatalogItem("c3", "Other tenant")}
    assert store.catalog_items("nobody", "courses", ["c1"]) == {}


def test_put_catalog_items_replaces_an_item(store):
    store.put_catalog_items("a", "clients", [CatalogItem("x", "Old")])
    store.put_catalog_items("a", "clients", [CatalogItem("x", "New", placeholder=True)])
    assert store.catalog_items("a", "clients", ["x"]) == {"x": CatalogItem("x", "New", placeholder=True)}


def test_catalog_items_looks_up_many_ids(store):
    items = [CatalogItem(f"id{n}", f"Item {n}") for n in range(1200)]
    store.put_catalog_items("a", "licenses", items)
    found = store.catalog_items("a", "licenses", [i.id for i in items] + ["missing"])
    assert found == {i.id: i for i in items}


# Redemption code groups -----------------------------------------------------------------


def test_a_group_comes_back_as_it_went_in(store):
    full = group(
        "Full",
        expiration_date="2030-01-01T00:00:00.000Z",
        access_days=30,
        client=CatalogItem("cl", "Client"),
        courses=(CatalogItem("c1", "One"), CatalogItem("c0", "Unknown course c0", placeholder=True)),
        learning_paths=(CatalogItem("lp", "Path"),),
        bundles=(CatalogItem("b", "Bundle"),),
        licenses=(CatalogItem("l", "License"),),
    )
    store.create_group("a", full, ["aaaaaa", "bbbbbb", "cccccc"])
    assert store.get_group("a", full.id) == full
    assert store.get_group("b", full.id) is None
    assert store.get_group("a", "unknown") is None


def test_group_codes_keep_the_order_they_were_generated_in(store):
    g = group(total=4)
    store.create_group("a", g, ["zzzzzz", "aaaaaa", "mmmmmm", "bbbbbb"])
    assert store.group_codes("a", g.id) == ["zzzzzz", "aaaaaa", "mmmmmm", "bbbbbb"]
    assert store.group_codes("b", g.id) == []
    assert store.group_codes("a", "unknown") == []


def test_codes_taken_and_code_count_are_per_tenant_and_length(store):
    store.create_group("a", group(total=2, length=6), ["aaaaaa", "bbbbbb"])
    store.create_group("a", group(total=1, length=4), ["cccc"])

    assert store.codes_taken("a", ["aaaaaa", "cccc", "dddddd"]) == {"aaaaaa", "cccc"}
    assert store.codes_taken("b", ["aaaaaa"]) == set()
    assert (store.code_count("a", 6), store.code_count("a", 4), store.code_count("a", 5)) == (2, 1, 0)
    assert store.code_count("b", 6) == 0


def test_a_clash_with_a_used_code_writes_nothing_and_names_the_clash(store):
    store.create_group("a", group(total=2), ["aaaaaa", "bbbbbb"])
    late = group(total=3)

    with pytest.raises(CodesTaken) as taken:
        store.create_group("a", late, ["cccccc", "bbbbbb", "dddddd"])

    assert taken.value.codes == {"bbbbbb"}
    assert store.get_group("a", late.id) is None
    assert store.group_codes("a", late.id) == []
    assert store.codes_taken("a", ["cccccc", "dddddd"]) == set()
    assert store.code_count("a", 6) == 2
    assert store.list_groups("a", query=None, sort=None, descending=False, offset=0, limit=10).total == 1


def test_a_code_twice_in_one_group_writes_nothing(store):
    g = group(total=3)
    with pytest.raises(CodesTaken) as taken:
        store.create_group("a", g, ["aaaaaa", "bbbbbb", "aaaaaa"])
    assert taken.value.codes == {"aaaaaa"}
    assert store.get_group("a", g.id) is None
    assert store.code_count("a", 6) == 0


def test_tenants_may_use_the_same_codes(store):
    store.create_group("a", group(total=1), ["aaaaaa"])
    store.create_group("b", group(total=1), ["aaaaaa"])
    assert store.code_count("b", 6) == 1


def test_a_ten_thousand_code_group(store):
    many = [f"{n:06d}" for n in range(10_000)]
    g = group(total=10_000)
    store.create_group("a", g, many)
    assert store.group_codes("a", g.id) == many
    assert store.codes_taken("a", many[::7] + ["x"]) == set(many[::7])
    assert store.code_count("a", 6) == 10_000


def _labels(page: Page) -> list[str]:
    return [g.label for g in page.items]


def _list(store, tenant="a", **options):
    return store.list_groups(tenant, **{"query": None, "sort": None, "descending": False, "offset": 0, "limit": 50, **options})


def test_groups_list_in_creation_order_a_page_at_a_time(store):
    for label in ("one", "two", "three", "four", "five"):
        store.create_group("a", group(label, total=0), [])
    store.create_group("b", group("other", total=0), [])

    assert _labels(_list(store)) == ["one", "two", "three", "four", "five"]
    page = _list(store, offset=1, limit=2)
    assert (_labels(page), page.total) == (["two", "three"], 5)
    assert _list(store, offset=5).items == [] and _list(store, offset=5).total == 5
    assert _labels(_list(store, descending=True)) == ["five", "four", "three", "two", "one"]
    assert _list(store, "nobody") == Page(items=[], total=0)


def test_groups_search_ignores_case_beyond_ascii(store):
    for label in ("Große Straße", "Spring Promo", "spring sale", "Winter"):
        store.create_group("a", group(label, total=0), [])

    assert _labels(_list(store, query="SPRING")) == ["Spring Promo", "spring sale"]
    assert _labels(_list(store, query="STRASSE")) == ["Große Straße"]
    assert _labels(_list(store, query="%")) == []
    page = _list(store, query="s", limit=1, offset=1)
    assert (_labels(page), page.total) == (["Spring Promo"], 3)


def test_groups_sort_by_a_field_and_ties_keep_creation_order(store):
    rows = [("b", 5, "b1"), ("A", 1, "a1"), ("a", 5, "a2"), ("B", 1, "b2"), ("a", 3, "a3")]
    for label, total, tag in rows:
        store.create_group("a", group(label, total=total, courses=(CatalogItem(tag, tag),)), [f"{tag}{n:04d}" for n in range(total)])

    def tags(**options):
        return [g.courses[0].id for g in _list(store, **options).items]

    assert tags(sort="label") == ["a1", "a2", "a3", "b2", "b1"]
    assert tags(sort="label", descending=True) == ["b1", "b2", "a2", "a3", "a1"]
    assert tags(sort="totalCodesCount") == ["a1", "b2", "a3", "b1", "a2"]
    assert tags(sort="totalCodesCount", descending=True) == ["b1", "a2", "a3", "a1", "b2"]
    assert tags(sort="redeemedCodesCount") == ["b1", "a1", "a2", "b2", "a3"]


# Tokens --------------------------------------------------------------------------------


def test_tokens_are_found_by_their_string(store):
    token = Token(token="t1", tenant="store-a", grant="client_credentials", expires_at=T0)
    store.save_token(token)
    assert store.find_token("t1") == token
    assert store.find_token("t2") is None

    renewed = replace(token, expires_at=T0 + timedelta(hours=1))
    store.save_token(renewed)
    assert store.find_token("t1") == renewed


# Promotions ----------------------------------------------------------------------------


@pytest.mark.parametrize("automatic", [None, True, False])
def test_a_promotion_comes_back_as_it_went_in(store, automatic):
    p = promotion(
        automatic=automatic,
        extras={"min_cart_value": [{"currency": "USD", "amount": 1000}], "max_applications_per_cart": 2},
        schema={"type": "x", "nested": {"list": [1, 2.5, "three", None, True]}},
    )
    store.add_promotion("a", p, 1000)
    assert store.get_promotion("a", p.id) == p
    assert store.get_promotion("b", p.id) is None
    assert store.get_promotion("a", "unknown") is None


def test_the_promotion_quota_refuses_one_more_and_writes_nothing(store):
    first, second, third = promotion("1"), promotion("2"), promotion("3")
    store.add_promotion("a", first, 2)
    store.add_promotion("a", second, 2)
    with pytest.raises(QuotaExceeded):
        store.add_promotion("a", third, 2)
    assert store.get_promotion("a", third.id) is None
    store.add_promotion("b", third, 2)  # the quota is the tenant's


def test_promotions_list_in_creation_order_and_by_code(store):
    made = [promotion(str(n)) for n in range(5)]
    for p in made:
        store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", made[3], codes("SUMMER"), 1000)
    store.add_promotion("b", promotion("other"), 1000)

    page = store.list_promotions("a", offset=1, limit=2)
    assert (page.items, page.total) == (made[1:3], 5)
    assert store.list_promotions("a", offset=0, limit=100, code="SUMMER") == Page(items=[made[3]], total=1)
    assert store.list_promotions("a", offset=0, limit=100, code="WINTER") == Page(items=[], total=0)
    assert store.list_promotions("b", offset=0, limit=100, code="SUMMER").total == 0
    assert store.list_promotions("nobody", offset=0, limit=100) == Page(items=[], total=0)


def test_replacing_a_promotion_keeps_its_place_and_may_drop_its_codes(store):
    first, second = promotion("first"), promotion("second")
    store.add_promotion("a", first, 1000)
    store.add_promotion("a", second, 1000)
    store.add_promotion_codes("a", first, codes("A1", "A2"), 1000)

    renamed = replace(first, name="renamed", automatic=False, updated_at=T0 + timedelta(hours=1))
    store.replace_promotion("a", renamed, drop_codes=False)
    assert store.list_promotions("a", offset=0, limit=10).items == [renamed, second]
    assert store.promotion_code_count("a", first.id) == 2

    store.replace_promotion("a", renamed, drop_codes=True)
    assert store.promotion_code_count("a", first.id) == 0
    assert store.list_promotions("a", offset=0, limit=10, code="A1").total == 0
    store.add_promotion_codes("a", second, codes("A1"), 1000)  # free again


def test_deleting_a_promotion_deletes_its_codes(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", p, codes("A1", "A2"), 1000)

    assert store.delete_promotion("b", p.id) is False
    assert store.delete_promotion("a", p.id) is True
    assert store.delete_promotion("a", p.id) is False
    assert store.get_promotion("a", p.id) is None
    assert store.list_promotion_codes("a", p.id, offset=0, limit=10) == Page(items=[], total=0)
    again = promotion()
    store.add_promotion("a", again, 1000)
    store.add_promotion_codes("a", again, codes("A1", "A2"), 1000)


# Promotion codes -----------------------------------------------------------------------


def test_counts_beyond_32_bits_come_back_as_they_went_in(store):
    # A snapshot may hold any count a JSON number can: SQLite's INTEGER is 64 bits, and so is
    # every integer column on PostgreSQL.
    p = promotion()
    store.add_promotion("a", p, 1000)
    big = PromotionCode("BIG", uses=2**62, used=2**53 - 2)
    store.add_promotion_codes("a", p, [big], 1000)
    assert store.list_promotion_codes("a", p.id, offset=0, limit=10).items == [big]
    assert store.use_promotion_code("a", p.id, "BIG") == replace(big, used=2**53 - 1)


def test_codes_with_any_characters_come_back_as_they_went_in(store):
    # PostgreSQL writes a batch with COPY, whose text format escapes these.
    p = promotion()
    store.add_promotion("a", p, 1000)
    odd = ["back\\slash", "tab\there", "new\nline", "cr\rhere", "\\N", "ünïcödé-€", "plain"]
    store.add_promotion_codes("a", p, codes(*odd), 1000)
    assert [c.code for c in store.list_promotion_codes("a", p.id, offset=0, limit=10).items] == odd
    assert store.find_promotion_code("a", "\\N")[1].code == "\\N"


def test_codes_are_added_and_listed_in_order_with_the_promotion_written(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    touched = replace(p, updated_at=T0 + timedelta(minutes=5))
    added = [
        PromotionCode("Z1", uses=3, user="customer-1", consume_unit="per_checkout"),
        PromotionCode("A1"),
        PromotionCode("M1", uses=0),
    ]
    store.add_promotion_codes("a", touched, added, 1000)

    assert store.get_promotion("a", p.id) == touched
    assert store.list_promotion_codes("a", p.id, offset=0, limit=100) == Page(items=added, total=3)
    assert store.list_promotion_codes("a", p.id, offset=1, limit=1) == Page(items=added[1:2], total=3)
    assert store.list_promotion_codes("a", p.id, offset=0, limit=0) == Page(items=[], total=3)
    assert store.promotion_code_count("a", p.id) == 3
    assert store.promotion_code_count("b", p.id) == 0


def test_taken_codes_refuse_the_whole_batch(store):
    first, second = promotion("first"), promotion("second")
    store.add_promotion("a", first, 1000)
    store.add_promotion("a", second, 1000)
    store.add_promotion_codes("a", first, codes("USED"), 1000)
    touched = replace(second, updated_at=T0 + timedelta(minutes=5))

    with pytest.raises(CodesTaken) as taken:
        store.add_promotion_codes("a", touched, codes("NEW1", "USED", "TWICE", "TWICE"), 1000)

    assert taken.value.codes == {"USED", "TWICE"}
    assert store.promotion_code_count("a", second.id) == 0
    assert store.get_promotion("a", second.id) == second  # not touched either
    store.add_promotion_codes("a", touched, codes("NEW1", "TWICE"), 1000)


def test_a_code_already_in_the_same_promotion_is_taken(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", p, codes("ONCE"), 1000)
    with pytest.raises(CodesTaken) as taken:
        store.add_promotion_codes("a", p, codes("ONCE", "OTHER"), 1000)
    assert taken.value.codes == {"ONCE"}
    assert store.promotion_code_count("a", p.id) == 1


def test_the_code_quota_counts_what_the_promotion_has(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", p, codes("C1", "C2"), 3)
    touched = replace(p, updated_at=T0 + timedelta(minutes=5))

    with pytest.raises(QuotaExceeded):
        store.add_promotion_codes("a", touched, codes("C3", "C4"), 3)

    assert store.promotion_code_count("a", p.id) == 2
    assert store.get_promotion("a", p.id) == p
    store.add_promotion_codes("a", touched, codes("C3"), 3)
    assert store.promotion_code_count("a", p.id) == 3


def test_a_taken_code_is_reported_before_the_quota(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", p, codes("C1"), 1)
    with pytest.raises(CodesTaken):
        store.add_promotion_codes("a", p, codes("C1", "C2"), 1)


def test_tenants_may_use_the_same_promotion_codes(store):
    mine, theirs = promotion(), promotion()
    store.add_promotion("a", mine, 1000)
    store.add_promotion("b", theirs, 1000)
    store.add_promotion_codes("a", mine, codes("SAME"), 1000)
    store.add_promotion_codes("b", theirs, codes("SAME"), 1000)
    assert store.list_promotions("b", offset=0, limit=10, code="SAME").items == [theirs]


def test_deleting_codes_counts_those_the_promotion_had(store):
    p, other = promotion(), promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion("a", other, 1000)
    store.add_promotion_codes("a", p, codes("C1", "C2", "C3"), 1000)
    store.add_promotion_codes("a", other, codes("O1"), 1000)

    assert store.delete_promotion_codes("a", p.id, ["C1", "C3", "C1", "NOPE", "O1"]) == 2
    assert [c.code for c in store.list_promotion_codes("a", p.id, offset=0, limit=10).items] == ["C2"]
    assert store.promotion_code_count("a", other.id) == 1
    assert store.delete_promotion_codes("b", p.id, ["C2"]) == 0
    assert store.delete_promotion_codes("a", "unknown", ["C2"]) == 0

    store.add_promotion_codes("a", p, codes("C1"), 1000)  # a deleted code is free and listed last
    assert [c.code for c in store.list_promotion_codes("a", p.id, offset=0, limit=10).items] == ["C2", "C1"]


# Whole store ---------------------------------------------------------------------------


def _fill(store, tenant: str) -> tuple[RedemptionGroup, Promotion, Token]:
    g, p = group(total=1), promotion()
    token = Token(token=f"token-{tenant}", tenant=tenant, grant="client_credentials", expires_at=T0)
    store.put_catalog_items(tenant, "courses", [CatalogItem("c", "Course")])
    store.create_group(tenant, g, ["same01"])
    store.add_promotion(tenant, p, 1000)
    store.add_promotion_codes(tenant, p, codes("SAME"), 1000)
    store.save_token(token)
    return g, p, token


def test_reset_of_one_tenant_leaves_the_others(store):
    g_a, p_a, t_a = _fill(store, "a")
    g_b, p_b, t_b = _fill(store, "b")

    store.reset("a")

    assert store.get_group("a", g_a.id) is None
    assert store.codes_taken("a", ["same01"]) == set()
    assert store.code_count("a", 6) == 0
    assert store.catalog_items("a", "courses", ["c"]) == {}
    assert store.get_promotion("a", p_a.id) is None
    # Tokens are credentials, not state: they outlive a reset, as API keys do.
    assert store.find_token(t_a.token) == t_a
    assert store.get_group("b", g_b.id) == g_b
    assert store.get_promotion("b", p_b.id) == p_b
    assert store.find_token(t_b.token) == t_b
    assert store.list_promotions("b", offset=0, limit=10, code="SAME").total == 1
    _fill(store, "a")  # the codes are free again


def test_reset_of_everything(store):
    g, p, t = _fill(store, "a")
    _fill(store, "b")
    store.reset()
    assert store.get_group("a", g.id) is None
    assert store.get_promotion("a", p.id) is None
    assert store.find_token(t.token) == t
    assert store.code_count("b", 6) == 0
    assert _list(store, "b").total == 0


def test_writes_to_a_deleted_promotion_write_nothing(store):
    gone = promotion("gone")
    store.add_promotion("a", gone, 1000)
    store.delete_promotion("a", gone.id)
    with pytest.raises(KeyError):
        store.replace_promotion("a", gone, drop_codes=False)
    with pytest.raises(KeyError):
        store.add_promotion_codes("a", gone, codes("X"), 1000)
    assert store.get_promotion("a", gone.id) is None
    assert store.find_promotion_code("a", "X") is None


# Catalog as a whole, redemptions, code uses ----------------------------------------------


def test_catalog_lists_and_replaces_every_kind(store):
    store.put_catalog_items("a", "courses", [CatalogItem("c2", "Two"), CatalogItem("c1", "One")])
    store.put_catalog_items("a", "clients", [CatalogItem("k", "Client")])
    assert store.catalog("a") == {
        "courses": [CatalogItem("c2", "Two"), CatalogItem("c1", "One")],
        "bundles": [],
        "licenses": [],
        "learningPaths": [],
        "clients": [CatalogItem("k", "Client")],
    }
    store.replace_catalog("a", {"bundles": [CatalogItem("b", "Bundle")]})
    assert store.catalog("a")["courses"] == []
    assert store.catalog("a")["bundles"] == [CatalogItem("b", "Bundle")]
    assert store.catalog("b")["bundles"] == []


def test_redeeming_counts_once_and_records_the_event(store):
    g = group()
    store.create_group("a", g, ["code01", "code02"])
    assert store.find_code("a", "code01") == (g.id, False)
    assert store.find_code("b", "code01") is None
    event = RedemptionEvent(id="e1", code="code01", group_id=g.id, user_id="u", occurred_at=T0)
    assert store.redeem_code("a", event).redeemed_codes == 1
    with pytest.raises(AlreadyUsed):
        store.redeem_code("a", RedemptionEvent(id="e2", code="code01", group_id=g.id, user_id="v", occurred_at=T0))
    assert store.get_group("a", g.id).redeemed_codes == 1
    assert store.find_code("a", "code01") == (g.id, True)
    assert store.redeemed_codes("a", g.id) == {"code01"}
    page = store.list_redemption_events("a", offset=0, limit=10)
    assert (page.items, page.total) == ([event], 1)
    assert store.list_redemption_events("a", offset=0, limit=10, start=T0 + timedelta(seconds=1)).total == 0
    assert store.list_redemption_events("a", offset=0, limit=10, end=T0 + timedelta(seconds=1), user_id="u").total == 1
    assert store.list_redemption_events("a", offset=0, limit=10, group_id="other").total == 0
    assert store.list_redemption_events("b", offset=0, limit=10).total == 0


def test_a_code_use_counts_until_none_is_left(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", p, [PromotionCode(code="TWICE", uses=2), PromotionCode(code="ANY")], 1000)
    found, code = store.find_promotion_code("a", "TWICE")
    assert (found, code) == (p, PromotionCode(code="TWICE", uses=2))
    assert store.use_promotion_code("a", p.id, "TWICE").uses_left == 1
    assert store.use_promotion_code("a", p.id, "TWICE").uses_left == 0
    with pytest.raises(AlreadyUsed):
        store.use_promotion_code("a", p.id, "TWICE")
    assert store.use_promotion_code("a", p.id, "ANY") == PromotionCode(code="ANY", used=1)
    assert store.list_promotion_codes("a", p.id, offset=0, limit=10).items[0].used == 2
    assert store.find_promotion_code("b", "TWICE") is None


def test_a_code_use_and_its_usage_are_written_together(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    store.add_promotion_codes("a", p, [PromotionCode(code="ONCE", uses=1)], 1000)

    def usage(n: int) -> PromotionUsage:
        return PromotionUsage(id=f"u{n}", promotion_id=p.id, code="ONCE", code_id="c", used_on=T0, updated_at=T0, customer_id="x")

    assert store.use_promotion_code("a", p.id, "ONCE", usage(1)).uses_left == 0
    with pytest.raises(AlreadyUsed):
        store.use_promotion_code("a", p.id, "ONCE", usage(2))
    # The refused use recorded no usage.
    assert store.list_promotion_usages("a", p.id) == [usage(1)]


def test_ping_answers(store):
    assert store.ping() is None


# Moltin: who made a promotion and its codes, its history and its jobs ---------------------
def test_who_made_a_promotion_and_its_codes_comes_back(store):
    p = promotion(created_by="Key-1", updated_by="Key-2")
    store.add_promotion("a", p, 1000)
    assert store.get_promotion("a", p.id) == p
    made = [
        PromotionCode(code="ONE", user="alice", created_at=T0, created_by="Key-1"),
        PromotionCode(code="MANY", user=("alice", "bob"), uses=3, consume_unit="per_item", created_at=T0, created_by="Key-1"),
    ]
    store.add_promotion_codes("a", p, made, 1000)
    assert store.list_promotion_codes("a", p.id, offset=0, limit=10).items == made
    assert store.find_promotion_code("a", "MANY") == (p, made[1])


def test_versions_list_oldest_first_and_go_with_their_promotion(store):
    p = promotion()
    store.add_promotion("a", p, 1000)
    later = replace(p, name="Later", updated_at=T0 + timedelta(seconds=1))
    store.add_promotion_version("a", p)
    store.add_promotion_version("a", later)
    assert store.list_promotion_versions("a", p.id, offset=0, limit=10) == Page(items=[p, later], total=2)
    assert store.list_promotion_versions("a", p.id, offset=1, limit=1) == Page(items=[later], total=2)
    assert store.list_promotion_versions("b", p.id, offset=0, limit=10) == Page(items=[], total=0)
    store.delete_promotion("a", p.id)
    assert store.list_promotion_versions("a", p.id, offset=0, limit=10) == Page(items=[], total=0)


def test_jobs_are_kept_listed_and_replaced(store):
    p, q = promotion(), promotion("Other")
    store.add_promotion("a", p, 1000)
    store.add_promotion("a", q, 1000)
    first = PromotionJob(id="j1", promotion_id=p.id, job_type="code_generate", status="pending", created_at=T0, updated_at=T0,
                         name="gen", parameters={"number_of_codes": 2, "code_length": 8}, created_by="Key-1")  # fmt: skip
    second = PromotionJob(id="j2", promotion_id=q.id, job_type="code_export", status="pending", created_at=T0, updated_at=T0)
    store.add_promotion_job("a", first)
    store.add_promotion_job("a", second)
    assert store.get_promotion_job("a", p.id, "j1") == first
    assert store.get_promotion_job("a", q.id, "j1") is None
    assert store.get_promotion_job("b", p.id, "j1") is None
    assert store.list_promotion_jobs("a", p.id) == [first]
    assert store.unfinished_promotion_jobs("a") == [first, second]
    running = replace(first, status="processing", result={"generated": 2}, codes=("aaaa-bbbb", "cccc-dddd"))
    store.replace_promotion_job("a", running)
    assert store.get_promotion_job("a", p.id, "j1") == running
    done = replace(second, status="completed", file="code\nA\n")
    store.replace_promotion_job("a", done)
    assert store.unfinished_promotion_jobs("a") == [running]
    assert store.list_promotion_jobs("a", q.id) == [done]
    store.delete_promotion("a", p.id)
    assert store.list_promotion_jobs("a", p.id) == [] and store.unfinished_promotion_jobs("a") == []
    store.reset("a")
    assert store.list_promotion_jobs("a", q.id) == []



def test_a_job_step_is_written_only_over_the_state_it_was_taken_from(store):
    """Two processes reading the same pending job: the first to write its next state wins, the
    other's write is refused and changes nothing (jobs run once on a shared store)."""
    p = promotion()
    store.add_promotion("a", p, 1000)
    pending = PromotionJob(id="j1", promotion_id=p.id, job_type="code_generate", status="pending", created_at=T0, updated_at=T0,
                           parameters={"number_of_codes": 1, "code_length": 8})  # fmt: skip
    store.add_promotion_job("a", pending)
    mine = replace(pending, status="processing", updated_at=T0 + timedelta(seconds=1))
    theirs = replace(pending, status="cancelled", updated_at=T0 + timedelta(seconds=2))
    assert store.replace_promotion_job("a", mine, expected=pending) is True
    assert store.replace_promotion_job("a", theirs, expected=pending) is False
    assert store.get_promotion_job("a", p.id, "j1") == mine
    worked = replace(mine, result={"generated": 1}, codes=("aaaa-bbbb",))
    assert store.replace_promotion_job("a", worked, expected=mine) is True
    assert store.replace_promotion_job("a", worked, expected=mine) is False
    assert store.replace_promotion_job("b", worked) is False  # another tenant has no such job
    assert store.get_promotion_job("a", p.id, "j1") == worked


def test_tenant_settings_are_the_tenants_own_and_go_with_its_reset(store):
    store.set_tenant_setting("a", "limits", {"enforced": True, "plan": "enterprise"})
    store.set_tenant_setting("a", "hold", {"held": True})
    assert store.tenant_setting("a", "limits") == {"enforced": True, "plan": "enterprise"}
    assert store.tenant_setting("b", "limits") is None
    store.set_tenant_setting("a", "hold", None)
    assert store.tenant_setting("a", "hold") is None
    store.set_tenant_setting("b", "limits", {"enforced": False})
    store.reset("a")
    assert store.tenant_setting("a", "limits") is None
    assert store.tenant_setting("b", "limits") == {"enforced": False}
    store.reset()
    assert store.tenant_setting("b", "limits") is None

# Keyset pages, uploaded codes, gifts (Thought Industries, issue 14) ------------------------------

from codestand.storage.base import GroupPosition  # noqa: E402


def test_group_page_starts_after_a_position_in_each_order(store):
    made = [group(label, total=total) for label, total in (("b", 2), ("A", 1), ("a", 2), ("c", 3))]
    for n, g in enumerate(made):
        store.create_group("a", g, [f"code{n}{k}" for k in range(g.total_codes)])
    listed = store.group_page("a", query=None, sort=None, descending=False, after=None, limit=10).items
    assert [g.id for g in listed] == [g.id for g in made] and all(g.seq > 0 for g in listed)
    by_label = store.group_page("a", query=None, sort="label", descending=False, after=None, limit=10)
    assert ([g.label for g in by_label.items], by_label.total) == (["A", "a", "b", "c"], 4)
    first = by_label.items[0]
    after = GroupPosition(seq=first.seq, total=first.total_codes, redeemed=0, label=b"a")
    assert [g.label for g in store.group_page("a", query=None, sort="label", descending=False, after=after, limit=10).items] == ["a", "b", "c"]
    assert [g.label for g in store.group_page("a", query=None, sort="label", descending=True, after=after, limit=10).items] == ["a"]
    assert [g.label for g in store.group_page("a", query=None, sort="totalCodesCount", descending=True, after=after, limit=10).items] == []
    # The position stays one after its group is deleted; the total counts every match.
    assert store.delete_group("a", first.id) and not store.delete_group("a", first.id)
    page = store.group_page("a", query="A", sort="label", descending=False, after=after, limit=1)
    assert ([g.label for g in page.items], page.total) == (["a"], 1)
    assert store.codes_taken("a", ["code10"]) == set() and store.code_count("a", 6) == 7


def test_event_page_is_inclusive_and_keyset(store):
    g = group(total=3)
    store.create_group("a", g, ["aaaaaa", "bbbbbb", "cccccc"])
    for n, code in enumerate(["aaaaaa", "bbbbbb", "cccccc"]):
        store.redeem_code("a", RedemptionEvent(id=f"e{n}", code=code, group_id=g.id, user_id="u", occurred_at=T0 + timedelta(seconds=n // 2)))
    events = store.event_page("a", after=None, limit=10).items
    assert [e.id for e in events] == ["e0", "e1", "e2"]
    assert [e.id for e in store.event_page("a", after=(events[0].occurred_at, events[0].seq), limit=10).items] == ["e1", "e2"]
    assert store.event_page("a", after=None, limit=10, end=T0).total == 2
    assert store.event_page("a", after=None, limit=10, start=T0 + timedelta(seconds=1)).total == 1


def test_added_codes_and_gifts(store):
    g = group(total=1)
    store.create_group("a", g, ["aaaaaa"])
    added = store.add_group_codes("a", g.id, ["mine-1", "mine-2"], uploaded=True)
    assert (added.total_codes, added.uploaded, added.gift) == (3, True, False)
    assert store.group_codes("a", g.id) == ["aaaaaa", "mine-1", "mine-2"]
    with pytest.raises(CodesTaken):
        store.add_group_codes("a", g.id, ["mine-3", "aaaaaa"], uploaded=True)
    assert store.get_group("a", g.id).total_codes == 3 and store.codes_taken("a", ["mine-3"]) == set()
    assert store.set_group_gift("a", g.id, True).gift is True
    assert store.get_group("a", g.id).gift is True
    assert store.add_group_codes("a", "unknown", ["x"], uploaded=True) is None
    assert store.set_group_gift("b", g.id, True) is None
    uploaded = group(total=1, uploaded=True, gift=True)
    store.create_group("a", uploaded, ["up-1"])
    assert (store.get_group("a", uploaded.id).uploaded, store.get_group("a", uploaded.id).gift) == (True, True)
    # The offset list carries the flags too (a snapshot exports from it).
    listed = store.list_groups("a", query=None, sort=None, descending=False, offset=0, limit=10).items
    assert [(x.id, x.uploaded, x.gift) for x in listed] == [(g.id, True, True), (uploaded.id, True, True)]


@pytest.mark.parametrize("store", [name for name in TEST_STORES if name != "memory"], indirect=True)  # the SQL stores
def test_a_relaxed_write_skips_the_wait_for_the_disk_for_itself_only(store):
    """Rate-limit counts and journal entries commit without waiting for the disk; every other
    write waits as the store is set to (SQLite `synchronous = FULL`; PostgreSQL the server's
    `synchronous_commit`, which the test cluster, run without fsync, has off already)."""
    show = "PRAGMA synchronous" if store.dialect.name == "sqlite" else "SHOW synchronous_commit"
    with store._writing() as db:
        durable = tuple(db.one(show))
    assert store.dialect.name != "sqlite" or durable == (2,)  # FULL
    with store._writing(relaxed=True) as db:
        assert tuple(db.one(show)) == ((1,) if store.dialect.name == "sqlite" else ("off",))  # NORMAL
    with store._writing() as db:
        assert tuple(db.one(show)) == durable
    assert store.count_rate("key:a", 60, cap=None) == 1
    with store._writing() as db:
        assert tuple(db.one(show)) == durable
