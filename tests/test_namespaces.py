"""A Thought Industries key and a Moltin client_id of the same text are two tenants.

Before: both named one tenant, so a snapshot of the Moltin store `acme` held the groups created
with the TI key `acme`, and resetting one reset the other.
"""

from __future__ import annotations

from tests.conftest import token_for
from tests.samples import GROUP, PROMOTION

NAME = "acme"
TI = {"Authorization": f"Bearer {NAME}"}
CONTROL_HEADERS = {"X-Codestand": "1"}


def seed_both(client) -> tuple[dict, dict]:
    group = client.post("/incoming/v2/redemptionCodes", json=GROUP, headers=TI).json()
    moltin = {"Authorization": f"Bearer {token_for(client, NAME)}"}
    promotion = client.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]
    client.post("/__codestand/thoughtindustries/tenants/acme/catalog", json={"bundles": [{"id": "b-1", "name": "Mine"}]})
    return group, promotion


def test_each_vendors_snapshot_holds_only_its_own(client):
    group, promotion = seed_both(client)
    ti = client.get(f"/__codestand/thoughtindustries/tenants/{NAME}/snapshot").json()
    moltin = client.get(f"/__codestand/moltin/tenants/{NAME}/snapshot").json()
    assert [g["id"] for g in ti["redemptionCodeGroups"]] == [group["id"]]
    assert (ti["promotions"], ti["catalog"]["bundles"]) == ([], [{"id": "b-1", "name": "Mine"}])
    assert [p["id"] for p in moltin["promotions"]] == [promotion["id"]]
    assert (moltin["redemptionCodeGroups"], moltin["redemptions"]) == ([], [])
    assert all(items == [] for items in moltin["catalog"].values())
    # The route that names no vendor holds both, as it did.
    both = client.get(f"/__codestand/tenants/{NAME}/snapshot").json()
    assert ([g["id"] for g in both["redemptionCodeGroups"]], [p["id"] for p in both["promotions"]]) == ([group["id"]], [promotion["id"]])


def test_resetting_one_vendors_tenant_keeps_its_namesake(client):
    group, promotion = seed_both(client)
    moltin = {"Authorization": f"Bearer {token_for(client, NAME)}"}
    assert client.post(f"/__codestand/moltin/tenants/{NAME}/reset", headers=CONTROL_HEADERS).status_code == 204
    assert client.get(f"/incoming/v2/redemptionCodes/{group['id']}", headers=TI).status_code == 200
    assert client.get(f"/v2/promotions/{promotion['id']}", headers=moltin).status_code == 404
    group2, promotion2 = seed_both(client)
    assert client.post(f"/__codestand/thoughtindustries/tenants/{NAME}/reset", headers=CONTROL_HEADERS).status_code == 204
    assert client.get(f"/incoming/v2/redemptionCodes/{group2['id']}", headers=TI).status_code == 404
    assert client.get(f"/v2/promotions/{promotion2['id']}", headers=moltin).status_code == 200
    # The old route resets both.
    assert client.post(f"/__codestand/tenants/{NAME}/reset", headers=CONTROL_HEADERS).status_code == 204
    assert client.get(f"/v2/promotions/{promotion2['id']}", headers=moltin).status_code == 404


def test_a_vendors_snapshot_refuses_the_other_vendors_records(client):
    seed_both(client)
    both = client.get(f"/__codestand/tenants/{NAME}/snapshot").json()
    for vendor, reason in (
        ("thoughtindustries", "a Thought Industries tenant's snapshot holds no promotions"),
        ("moltin", "a Moltin tenant's snapshot holds no Thought Industries catalog, groups or redemptions"),
    ):
        response = client.put(f"/__codestand/{vendor}/tenants/other/snapshot", json=both)
        assert (response.status_code, response.json()) == (
            400,
            {"errors": [{"status": 400, "title": "Bad snapshot", "detail": f"The snapshot cannot be restored: {reason}"}]},
        )


def test_the_journal_names_each_tenant_as_its_client_knows_it(client):
    seed_both(client)
    entries = client.get("/__codestand/journal", params={"tenant": NAME}).json()["entries"]
    assert {(e["method"], e["path"].split("/")[1], e["tenant"]) for e in entries} == {
        ("POST", "v2", NAME),
        ("POST", "oauth", NAME),
    } | {("POST", "incoming", e["tenant"]) for e in entries if e["path"].startswith("/incoming")}
    assert all(e["tenant"].startswith("sha256:") for e in entries if e["path"].startswith("/incoming"))
