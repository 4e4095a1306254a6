"""A snapshot import passes the vendor routes' rules, record by record, and a bad one is refused
whole, naming its first problems; exported CSV cells cannot be spreadsheet formulas.

Before: an import accepted empty and 900,000-character codes, more codes than
`totalCodesCount`, `start` after `end`, an unknown `promotion_type` and codes with `/ ? # %`;
and CSV cells starting with `=`, `+`, `-`, `@` were written as they are.
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import TI_KEY, token_for
from tests.samples import COURSE, GROUP, PROMOTION

TI = f"/__codestand/thoughtindustries/tenants/{TI_KEY}/snapshot"
MOLTIN = "/__codestand/moltin/tenants/store-1/snapshot"


@pytest.fixture
def seeded(ti):
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
