"""Listing groups while they are created and deleted: keyset cursors, for every sort.

The vendor's pagination page: cursor-based pagination "provides stable results even when the
underlying data changes between requests". A page fetched after groups were created or deleted
neither repeats nor skips a group that was there all along.
"""

from __future__ import annotations

import pytest

from codestand.core import tenants
from tests.conftest import TI_KEY

URL = "/incoming/v2/redemptionCodes"
COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
LEARNER = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
# Labels with ties once case is folded, and beyond ASCII.
LABELS = ("alpha", "Alpha", "bravo", "Ärger", "zulu", "éclair", "Mike", "mike", "ß-promo", "1st")
SORTS = [
    None,
    "label:asc",
    "label:desc",
    "totalCodesCount:asc",
    "totalCodesCount:desc",
    "redeemedCodesCount:asc",
    "redeemedCodesCount:desc",
]
KEYS = {
    "label": lambda g: g["label"].casefold().encode(),
    "totalCodesCount": lambda g: g["totalCodesCount"],
    "redeemedCodesCount": lambda g: g["redeemedCodesCount"],
}


def create(ti, n: int) -> dict:
    body = {"label": f"{LABELS[n % len(LABELS)]}", "codeLength": 8, "totalCodesCount": n * 7 % 5 + 1, "courses": [COURSE]}
    response = ti.post(URL, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def page(ti, sort: str | None, cursor: str | None = None, query: str | None = None) -> dict:
    params = {k: v for k, v in (("sort", sort), ("cursor", cursor), ("query", query)) if v is not None}
    response = ti.get(URL, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("sort", SORTS, ids=str)
def test_pages_neither_repeat_nor_skip_while_groups_come_and_go(ti, store, sort):
    groups = [create(ti, n) for n in range(110)]
    for g in groups[::3]:
        code = ti.get(f"/__codestand/tenants/{TI_KEY}/redemption-code-groups/{g['id']}/codes").json()["codes"][0]["code"]
        assert ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": LEARNER}).status_code == 201
    first = page(ti, sort)
    seen = [g["id"] for g in first["redemptionCodeGroups"]]
    assert (len(seen), first["pageInfo"]["total"], first["pageInfo"]["hasMore"]) == (50, 110, True)
    # Between the pages: delete groups already shown and groups not shown yet, create new ones.
    deleted = set(seen[:5]) | set([g["id"] for g in groups if g["id"] not in seen[:50]][::9])
    for group_id in deleted:
        assert store.delete_group(tenants.ti(TI_KEY), group_id)
    created = [create(ti, n) for n in range(110, 125)]
    current, pages = first, [first]
    while current["pageInfo"]["hasMore"]:
        current = page(ti, sort, current["pageInfo"]["cursor"])
        pages.append(current)
        seen += [g["id"] for g in current["redemptionCodeGroups"]]
        if current["pageInfo"]["hasMore"]:
            created.append(create(ti, len(created) + 110))  # and one more between every two pages
    assert len(seen) == len(set(seen)), "a group appeared twice"
    stayed = {g["id"] for g in groups} - deleted
    assert stayed <= set(seen), "a group that was there all along was skipped"
    assert not (deleted - set(seen[:50])) & set(seen), "a deleted group was shown"
    # Everything shown is in the order asked for, ties by creation, across the pages.
    listed = [g for p in pages for g in p["redemptionCodeGroups"]]
    order = [g["id"] for g in groups + created]
    if sort is None:
        expected = sorted(listed, key=lambda g: order.index(g["id"]))
    else:
        field, _, direction = sort.partition(":")
        expected = sorted(sorted(listed, key=lambda g: order.index(g["id"])), key=KEYS[field], reverse=direction == "desc")
    assert [g["id"] for g in listed] == [g["id"] for g in expected]
    assert current["pageInfo"] == {"total": 110 - len(deleted) + len(created), "hasMore": False, "cursor": None}


def test_a_cursor_is_a_position_in_every_sort_and_query(ti):
    """Any cursor of the contract's form is a cursor: it carries every sort's key, so it can be
    handed on with another sort or query (Schemathesis' positive data must be accepted)."""
    groups = [create(ti, n) for n in range(55)]
    cursor = page(ti, "label:asc")["pageInfo"]["cursor"]
    for sort in SORTS:
        assert page(ti, sort, cursor)["pageInfo"]["total"] == 55
    assert page(ti, None, cursor, query="mike")["pageInfo"]["total"] == len([g for g in groups if g["label"].lower() == "mike"])
    # A position before everything and one after everything.
    assert len(page(ti, None, "g1.0.0.0.")["redemptionCodeGroups"]) == 50
    assert page(ti, None, "g1.999999999999999999.0.0.")["redemptionCodeGroups"] == []


def test_the_cursor_names_the_last_group_shown(ti):
    for n in range(51):
        create(ti, n)
    first = page(ti, "totalCodesCount:desc")
    last = first["redemptionCodeGroups"][-1]
    seq, total, redeemed, label = first["pageInfo"]["cursor"].split(".")[1:]
    assert (int(total), int(redeemed), bytes.fromhex(label).decode()) == (
        last["totalCodesCount"], last["redeemedCodesCount"], last["label"].casefold()
    )
    assert int(seq) > 0


def test_labels_sort_by_their_first_96_bytes_then_by_creation(ti):
    """So that a cursor (which carries the label's key) stays short enough for any URL."""
    body = {"codeLength": 8, "totalCodesCount": 1, "courses": [COURSE]}
    made = [ti.post(URL, json={**body, "label": label}).json()["id"] for label in ("é" * 48 + "b", "é" * 48 + "a", "é" * 47 + "a")]
    listed = [g["id"] for g in page(ti, "label:asc")["redemptionCodeGroups"]]
    assert listed == [made[2], made[0], made[1]]
