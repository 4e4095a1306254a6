"""Tenant isolation: a second tenant's key or token never reads, lists, changes or deletes the
first tenant's data, on any operation, on either store.

Tenant A holds a redemption code group with a redeemed code, a catalog item, and a Moltin
promotion with codes, one of them used. For every operation of `openapi.yaml` (the table must
name each one, so a new route cannot be missed), tenant B's key or token is pointed at A's
objects: what names one of them is the vendor's 404, a list shows nothing of A's, and a create
lands in B's own store. Afterwards A's whole state (its snapshot) is what it was, and A still
reads its objects as before. The control plane's `/tenants/{tenant}/...` routes get the same
treatment with B's name in the path; the rest of the control plane is global by design, and the
table says why for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from starlette.testclient import TestClient

from codestand.core import tenants as tenant_keys
from codestand.core import tenants
from codestand import spec
from codestand.control import snapshots
from codestand.settings import Settings
from codestand.storage.base import Storage
from tests.samples import GROUP, PROMOTION

A_KEY, B_KEY = "ti-key-tenant-a", "ti-key-tenant-b"
A_STORE, B_STORE = "store-a", "store-b"
SECRETS = {A_STORE: "secret-a", B_STORE: "secret-b"}

GROUP_NOT_FOUND = {"errors": ["Redemption code group not found."]}
PROMOTION_NOT_FOUND = {"errors": [{"status": 404, "title": "Not Found", "detail": "promotion not found"}]}
NO_GROUPS = {"redemptionCodeGroups": [], "pageInfo": {"total": 0, "hasMore": False, "cursor": None}}
A_BUNDLE = "aaaaaaaa-0000-4000-8000-00000000000a"  # in A's own catalog only
A_CODES = [{"code": "A-CODE-1"}, {"code": "A-CODE-2", "uses": 2}]

# A POST without a JSON body says it is no browser's (see control/cross_site.py).
CONTROL_HEADERS = {"X-Codestand": "1"}


CONFIGURED = Settings(access_log=False, ti_api_keys=(A_KEY, B_KEY), moltin_clients=tuple(SECRETS.items()))


@pytest.fixture
def settings() -> Settings:
    # Both tenants are configured ones: B is a legitimate second customer, not a stranger.
    return CONFIGURED


def token(client: TestClient, store: str, secret: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": store, "client_secret": secret or SECRETS[store]}
    response = client.post("/oauth/access_token", data=form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@dataclass
class World:
    """Tenant A's objects, and the credentials of both tenants."""

    client: TestClient
    store: Storage
    a_ti: dict
    b_ti: dict
    a_moltin: dict
    b_moltin: dict
    group: dict = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)
    promotion: dict = field(default_factory=dict)
    job: dict = field(default_factory=dict)

    def state(self) -> dict:
        """Everything A has, as the store holds it, and as A's own reads show it."""
        ti, moltin = self.a_ti, self.a_moltin
        promotion = f"/v2/promotions/{self.promotion['id']}"
        # The snapshots last: they hold A's jobs, which the reads of the jobs list bring up to
        # the clock first (moltin/jobs.py).
        return {
            "group": self.client.get(f"/incoming/v2/redemptionCodes/{self.group['id']}", headers=ti).json(),
            "groups": self.client.get("/incoming/v2/redemptionCodes", headers=ti).json(),
            "events": self.client.get("/incoming/v2/events/redemptionCodeRedeem", headers=ti).json(),
            "catalog": self.client.get(f"/__codestand/tenants/{A_KEY}/catalog").json(),
            "promotion": self.client.get(promotion, headers=moltin).json(),
            "promotions": self.client.get("/v2/promotions", headers=moltin).json(),
            "codes": self.client.get(f"{promotion}/codes", headers=moltin).json(),
            "history": self.client.get(f"{promotion}/history", headers=moltin).json(),
            "jobs": self.client.get(f"{promotion}/jobs", headers=moltin).json(),
            "usages": self.client.get(f"{promotion}/usages", headers=moltin).json(),
            "snapshots": {tenant: snapshots.export(self.store, tenant_keys.ti(tenant), tenant_keys.moltin(tenant)) for tenant in (A_KEY, A_STORE)},
        }


@pytest.fixture
def world(client, store, clock) -> World:
    clock.freeze(clock.now())  # A's job stays `processing`: its state is the same before and after
    w = World(
        client=client,
        store=store,
        a_ti={"Authorization": f"Bearer {A_KEY}"},
        b_ti={"Authorization": f"Bearer {B_KEY}"},
        a_moltin={"Authorization": f"Bearer {token(client, A_STORE)}"},
        b_moltin={"Authorization": f"Bearer {token(client, B_STORE)}"},
    )
    assert client.post(f"/__codestand/tenants/{A_KEY}/catalog", json={"bundles": [{"id": A_BUNDLE, "name": "A's bundle"}]}).status_code == 200
    created = client.post("/incoming/v2/redemptionCodes", json={**GROUP, "bundles": [A_BUNDLE]}, headers=w.a_ti)
    assert created.status_code == 201, created.text
    w.group = created.json()
    w.codes = store.group_codes(tenants.ti(A_KEY), w.group["id"])
    redeemed = client.post(f"/__codestand/tenants/{A_KEY}/redemptions", json={"code": w.codes[0], "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})
    assert redeemed.status_code == 201, redeemed.text

    created = client.post("/v2/promotions", json=PROMOTION, headers=w.a_moltin)
    assert created.status_code == 201, created.text
    w.promotion = created.json()["data"]
    added = client.post(
        f"/v2/promotions/{w.promotion['id']}/codes",
        json={"data": {"type": "promotion_codes", "codes": A_CODES}},
        headers=w.a_moltin,
    )
    assert added.status_code == 201, added.text
    w.promotion = added.json()["data"]
    used = client.post(f"/__codestand/tenants/{A_STORE}/promotion-code-uses", json={"code": "A-CODE-2"})
    assert used.status_code == 201, used.text
    job = client.post(f"/v2/promotions/{w.promotion['id']}/jobs", json={"job_type": "code_export"}, headers=w.a_moltin)
    assert job.status_code == 201, job.text
    w.job = job.json()["data"]
    return w


def answers(response, status: int, body=None) -> None:
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body


# What tenant B does with each vendor operation --------------------------------------------------


def ping(w: World) -> None:
    answers(w.client.get("/incoming/v2/ping", headers=w.b_ti), 200, {"valid": True})


def create_group(w: World) -> None:
    # The same request A made: B gets a group of its own, with codes from its own code space.
    created = w.client.post("/incoming/v2/redemptionCodes", json={**GROUP, "bundles": [A_BUNDLE]}, headers=w.b_ti)
    answers(created, 201)
    group = created.json()
    assert group["id"] != w.group["id"]
    # A's catalog names A's bundle; B has no such item, so B's group gets the placeholder.
    assert group["bundles"] == [{"id": A_BUNDLE, "name": f"Unknown bundle {A_BUNDLE}"}]
    listed = w.client.get("/incoming/v2/redemptionCodes", headers=w.b_ti).json()
    assert [g["id"] for g in listed["redemptionCodeGroups"]] == [group["id"]]


def list_groups(w: World) -> None:
    for query in ("", "?query=Spring", "?sort=label:asc", "?query=Spring&sort=redeemedCodesCount:desc"):
        answers(w.client.get(f"/incoming/v2/redemptionCodes{query}", headers=w.b_ti), 200, NO_GROUPS)


def get_group(w: World) -> None:
    answers(w.client.get(f"/incoming/v2/redemptionCodes/{w.group['id']}", headers=w.b_ti), 404, GROUP_NOT_FOUND)


def redemption_events(w: World) -> None:
    for query in ("", f"?notifiableId={w.group['id']}", "?userId=7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f", "?startDate=2000-01-01"):
        response = w.client.get(f"/incoming/v2/events/redemptionCodeRedeem{query}", headers=w.b_ti)
        answers(response, 200)
        feed = response.json()["data"]["APIEvents"]
        assert (feed["events"], feed["pageInfo"]["total"]) == ([], 0)


def access_token(w: World) -> None:
    # B's secret gets B a token, never one of A's store.
    answers(
        w.client.post("/oauth/access_token", data={"grant_type": "client_credentials", "client_id": A_STORE, "client_secret": SECRETS[B_STORE]}),
        401,
    )
    fresh = {"Authorization": f"Bearer {token(w.client, B_STORE)}"}
    implicit = w.client.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": B_STORE})
    answers(implicit, 200)
    assert w.client.get("/v2/promotions", headers=fresh).json()["meta"]["results"]["total"] == 0
    answers(w.client.get(f"/v2/promotions/{w.promotion['id']}", headers=fresh), 404, PROMOTION_NOT_FOUND)


def create_promotion(w: World) -> None:
    created = w.client.post("/v2/promotions", json=PROMOTION, headers=w.b_moltin)
    answers(created, 201)
    theirs = created.json()["data"]
    assert theirs["id"] != w.promotion["id"]
    # A code string A uses is free in B's store: stores share nothing.
    added = w.client.post(
        f"/v2/promotions/{theirs['id']}/codes", json={"data": {"type": "promotion_codes", "codes": A_CODES[:1]}}, headers=w.b_moltin
    )
    answers(added, 201)
    listed = w.client.get("/v2/promotions", headers=w.b_moltin).json()
    assert [p["id"] for p in listed["data"]] == [theirs["id"]]


def list_promotions(w: World) -> None:
    for query in ("", "?page[limit]=100&page[offset]=0", "?filter=eq(code,A-CODE-1)"):
        response = w.client.get(f"/v2/promotions{query}", headers=w.b_moltin)
        answers(response, 200)
        assert (response.json()["data"], response.json()["meta"]["results"]["total"]) == ([], 0)


def get_promotion(w: World) -> None:
    answers(w.client.get(f"/v2/promotions/{w.promotion['id']}", headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def update_promotion(w: World) -> None:
    body = {"data": {"type": "promotion", "name": "Taken over", "enabled": False, "end": "2031-01-01"}}
    answers(w.client.put(f"/v2/promotions/{w.promotion['id']}", json=body, headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def delete_promotion(w: World) -> None:
    answers(w.client.delete(f"/v2/promotions/{w.promotion['id']}", headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def add_codes(w: World) -> None:
    body = {"data": {"type": "promotion_codes", "codes": [{"code": "B-CODE"}]}}
    answers(w.client.post(f"/v2/promotions/{w.promotion['id']}/codes", json=body, headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def list_codes(w: World) -> None:
    for query in ("", "?page[limit]=1&page[offset]=1"):
        response = w.client.get(f"/v2/promotions/{w.promotion['id']}/codes{query}", headers=w.b_moltin)
        answers(response, 404, PROMOTION_NOT_FOUND)


def delete_codes(w: World) -> None:
    body = {"data": {"type": "promotion_codes", "codes": A_CODES}}
    response = w.client.request("DELETE", f"/v2/promotions/{w.promotion['id']}/codes", json=body, headers=w.b_moltin)
    answers(response, 404, PROMOTION_NOT_FOUND)


def delete_code(w: World) -> None:
    for code in ("A-CODE-1", "A-CODE-2"):
        response = w.client.delete(f"/v2/promotions/{w.promotion['id']}/codes/{code}", headers=w.b_moltin)
        answers(response, 404, PROMOTION_NOT_FOUND)


def history(w: World) -> None:
    answers(w.client.get(f"/v2/promotions/{w.promotion['id']}/history", headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def attributes(w: World) -> None:
    # The same for every store: the promotion object's fields, no store's data.
    answers(w.client.get("/v2/promotions/attributes", headers=w.b_moltin), 200)


def create_job(w: World) -> None:
    body = {"job_type": "code_generate", "parameters": {"number_of_codes": 5}}
    answers(w.client.post(f"/v2/promotions/{w.promotion['id']}/jobs", json=body, headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def list_jobs(w: World) -> None:
    answers(w.client.get(f"/v2/promotions/{w.promotion['id']}/jobs", headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def cancel_job(w: World) -> None:
    path = f"/v2/promotions/{w.promotion['id']}/jobs/{w.job['id']}/cancel"
    answers(w.client.post(path, headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def job_file(w: World) -> None:
    for suffix in ("file", "codes.csv"):
        path = f"/v2/promotions/{w.promotion['id']}/jobs/{w.job['id']}/{suffix}"
        answers(w.client.get(path, headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def list_usages(w: World) -> None:
    for path in ("usages", "codes/A-CODE-2/usages"):
        answers(w.client.get(f"/v2/promotions/{w.promotion['id']}/{path}", headers=w.b_moltin), 404, PROMOTION_NOT_FOUND)


def anonymize_usages(w: World) -> None:
    # A's usage ids, asked by B: B's store has none of them.
    ids = [u["id"] for u in w.client.get(f"/v2/promotions/{w.promotion['id']}/usages", headers=w.a_moltin).json()["data"]]
    response = w.client.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": ids}}, headers=w.b_moltin)
    answers(response, 200)
    assert response.json()["data"] == [] and response.json()["errors"][0]["meta"] == {"usage_ids": ids}


VENDOR: dict[str, Callable[[World], None]] = {
    "GET /incoming/v2/ping": ping,
    "POST /incoming/v2/redemptionCodes": create_group,
    "GET /incoming/v2/redemptionCodes": list_groups,
    "GET /incoming/v2/redemptionCodes/{id}": get_group,
    "GET /incoming/v2/events/redemptionCodeRedeem": redemption_events,
    "POST /oauth/access_token": access_token,
    "POST /v2/promotions": create_promotion,
    "GET /v2/promotions": list_promotions,
    "GET /v2/promotions/{id}": get_promotion,
    "PUT /v2/promotions/{id}": update_promotion,
    "DELETE /v2/promotions/{id}": delete_promotion,
    "POST /v2/promotions/{id}/codes": add_codes,
    "GET /v2/promotions/{id}/codes": list_codes,
    "DELETE /v2/promotions/{id}/codes": delete_codes,
    "DELETE /v2/promotions/{id}/codes/{code}": delete_code,
    "GET /v2/promotions/{id}/history": history,
    "GET /v2/promotions/attributes": attributes,
    "POST /v2/promotions/{id}/jobs": create_job,
    "GET /v2/promotions/{id}/jobs": list_jobs,
    "POST /v2/promotions/{id}/jobs/{jobId}/cancel": cancel_job,
    "GET /v2/promotions/{id}/jobs/{jobId}/file": job_file,
    "GET /v2/promotions/{id}/jobs/{jobId}/codes.csv": job_file,
    "GET /v2/promotions/{id}/usages": list_usages,
    "GET /v2/promotions/{id}/codes/{code}/usages": list_usages,
    "POST /v2/promotions/usages/anonymize": anonymize_usages,
}


# What tenant B's name in a control-plane path does -----------------------------------------------

B = f"/__codestand/tenants/{B_KEY}"


def reset_tenant(w: World) -> None:
    for tenant in (B_KEY, B_STORE):
        answers(w.client.post(f"/__codestand/tenants/{tenant}/reset", headers=CONTROL_HEADERS), 204)


def get_catalog(w: World) -> None:
    answers(w.client.get(f"{B}/catalog"), 200)
    assert A_BUNDLE not in w.client.get(f"{B}/catalog").text


def add_catalog(w: World) -> None:
    # The same id in B's catalog names B's item, not A's.
    answers(w.client.post(f"{B}/catalog", json={"bundles": [{"id": A_BUNDLE, "name": "B's bundle"}]}), 200)


def replace_catalog(w: World) -> None:
    answers(w.client.put(f"{B}/catalog", json={"bundles": [{"id": "bbbbbbbb-0000-4000-8000-00000000000b", "name": "B's only bundle"}]}), 200)


def group_codes(w: World) -> None:
    for suffix in ("", "?format=csv"):
        answers(
            w.client.get(f"{B}/redemption-code-groups/{w.group['id']}/codes{suffix}"),
            404,
            {"errors": [{"status": 404, "title": "Not Found", "detail": "No redemption code group with this id for this tenant"}]},
        )


def redeem(w: World) -> None:
    for code in w.codes:
        response = w.client.post(f"{B}/redemptions", json={"code": code, "userId": "8d2e1f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a"})
        answers(response, 404)
        assert response.json()["errors"][0]["title"] == "Unknown code"


def use_promotion_code(w: World) -> None:
    for code in ("A-CODE-1", "A-CODE-2"):
        response = w.client.post(f"/__codestand/tenants/{B_STORE}/promotion-code-uses", json={"code": code})
        answers(response, 404)


def export_snapshot(w: World) -> None:
    for tenant in (B_KEY, B_STORE):
        snapshot = w.client.get(f"/__codestand/tenants/{tenant}/snapshot").json()
        assert (snapshot["redemptionCodeGroups"], snapshot["redemptions"], snapshot["promotions"]) == ([], [], [])
        assert all(items == [] for items in snapshot["catalog"].values())


def import_snapshot(w: World) -> None:
    # A copy of A's state restored as B's is B's own: changing it leaves A's alone.
    for a, b in ((A_KEY, B_KEY), (A_STORE, B_STORE)):
        copy = w.client.get(f"/__codestand/tenants/{a}/snapshot").json()
        answers(w.client.put(f"/__codestand/tenants/{b}/snapshot", json=copy), 204)
    answers(w.client.post(f"{B}/redemptions", json={"code": w.codes[1], "userId": "8d2e1f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a"}), 201)
    answers(w.client.post(f"/__codestand/tenants/{B_STORE}/promotion-code-uses", json={"code": "A-CODE-2"}), 201)
    answers(w.client.post(f"/__codestand/tenants/{B_STORE}/promotion-code-uses", json={"code": "A-CODE-1"}), 201)
    copied = w.client.get(f"/incoming/v2/redemptionCodes/{w.group['id']}", headers=w.b_ti)
    assert copied.json()["redeemedCodesCount"] == 2
    answers(w.client.delete(f"/v2/promotions/{w.promotion['id']}", headers=w.b_moltin), 204)


GROUP_GONE = {"errors": [{"status": 404, "title": "Not Found", "detail": "No redemption code group with this id for this tenant"}]}


def upload_group(w: World, base: str = B) -> None:
    # A's codes are A's: B may upload the same strings as its own.
    answers(w.client.post(f"{base}/redemption-code-groups", json={"label": "B's", "codes": [w.codes[1]], "bundles": [A_BUNDLE]}), 201)


def add_group_codes(w: World, base: str = B) -> None:
    answers(w.client.post(f"{base}/redemption-code-groups/{w.group['id']}/added-codes", json={"count": 1}), 404, GROUP_GONE)


def set_gift(w: World, base: str = B) -> None:
    answers(w.client.put(f"{base}/redemption-code-groups/{w.group['id']}/gift", json={"gift": True}), 404, GROUP_GONE)


def delete_group(w: World, base: str = B) -> None:
    answers(w.client.delete(f"{base}/redemption-code-groups/{w.group['id']}"), 404, GROUP_GONE)


def rate_limits(w: World, base: str = B) -> None:
    answers(w.client.put(f"{base}/rate-limits", json={"enforced": True, "plan": "enterprise"}), 200)
    answers(w.client.get(f"/__codestand/tenants/{A_KEY}/rate-limits"), 200, {"enforced": False, "plan": "standard"})
    answers(w.client.get(f"{base}/rate-limits"), 200, {"enforced": True, "plan": "enterprise"})


# The same through the routes that name the vendor.
TI_B = f"/__codestand/thoughtindustries/tenants/{B_KEY}"
MOLTIN_B = f"/__codestand/moltin/tenants/{B_STORE}"


def ti_get_catalog(w: World) -> None:
    answers(w.client.get(f"{TI_B}/catalog"), 200)
    assert A_BUNDLE not in w.client.get(f"{TI_B}/catalog").text


def ti_group_codes(w: World) -> None:
    for suffix in ("", "?format=csv"):
        answers(w.client.get(f"{TI_B}/redemption-code-groups/{w.group['id']}/codes{suffix}"), 404)


def ti_redeem(w: World) -> None:
    for code in w.codes:
        answers(w.client.post(f"{TI_B}/redemptions", json={"code": code, "userId": "5f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e2b"}), 404)


def moltin_use(w: World) -> None:
    for code in ("A-CODE-1", "A-CODE-2"):
        answers(w.client.post(f"{MOLTIN_B}/promotion-code-uses", json={"code": code}), 404)


def vendor_export(w: World) -> None:
    for path in (f"{TI_B}/snapshot", f"{MOLTIN_B}/snapshot"):
        snapshot = w.client.get(path).json()
        assert (snapshot["redemptionCodeGroups"], snapshot["redemptions"], snapshot["promotions"]) == ([], [], [])


def vendor_import(w: World) -> None:
    for a, b in ((f"/__codestand/thoughtindustries/tenants/{A_KEY}", TI_B), (f"/__codestand/moltin/tenants/{A_STORE}", MOLTIN_B)):
        answers(w.client.put(f"{b}/snapshot", json=w.client.get(f"{a}/snapshot").json()), 204)
    answers(w.client.post(f"{TI_B}/redemptions", json={"code": w.codes[1], "userId": "5f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e2b"}), 201)
    answers(w.client.post(f"{MOLTIN_B}/promotion-code-uses", json={"code": "A-CODE-1"}), 201)


def moltin_rate_limits(w: World) -> None:
    # B's store made a production one with limits on; A's stays as the server has it.
    answers(w.client.put(f"{MOLTIN_B}/rate-limits", json={"enforced": True, "store_kind": "production"}), 200)
    answers(w.client.get(f"/__codestand/moltin/tenants/{A_STORE}/rate-limits"), 200, {"enforced": False, "store_kind": "development"})
    answers(w.client.get(f"{MOLTIN_B}/rate-limits"), 200, {"enforced": True, "store_kind": "production"})


def hold_jobs(w: World) -> None:
    # Holding B's jobs holds none of A's: A's job is processing before and after.
    answers(w.client.put(f"{MOLTIN_B}/promotion-jobs-hold", json={"hold": True}), 200)
    answers(w.client.put(f"{MOLTIN_B}/promotion-jobs-hold", json={"hold": False}), 200)


CONTROL: dict[str, Callable[[World], None]] = {
    "POST /tenants/{tenant}/redemption-code-groups": upload_group,
    "POST /tenants/{tenant}/redemption-code-groups/{id}/added-codes": add_group_codes,
    "PUT /tenants/{tenant}/redemption-code-groups/{id}/gift": set_gift,
    "DELETE /tenants/{tenant}/redemption-code-groups/{id}": delete_group,
    "GET /tenants/{tenant}/rate-limits": rate_limits,
    "PUT /tenants/{tenant}/rate-limits": rate_limits,
    "POST /thoughtindustries/tenants/{tenant}/reset": lambda w: answers(w.client.post(f"{TI_B}/reset", headers=CONTROL_HEADERS), 204),
    "GET /thoughtindustries/tenants/{tenant}/catalog": ti_get_catalog,
    "POST /thoughtindustries/tenants/{tenant}/catalog": lambda w: answers(
        w.client.post(f"{TI_B}/catalog", json={"bundles": [{"id": A_BUNDLE, "name": "B's bundle"}]}), 200
    ),
    "PUT /thoughtindustries/tenants/{tenant}/catalog": lambda w: answers(
        w.client.put(f"{TI_B}/catalog", json={"bundles": [{"id": "bbbbbbbb-0000-4000-8000-00000000000b", "name": "B's"}]}), 200
    ),
    "GET /thoughtindustries/tenants/{tenant}/redemption-code-groups/{id}/codes": ti_group_codes,
    "POST /thoughtindustries/tenants/{tenant}/redemptions": ti_redeem,
    "GET /thoughtindustries/tenants/{tenant}/snapshot": vendor_export,
    "PUT /thoughtindustries/tenants/{tenant}/snapshot": vendor_import,
    "POST /moltin/tenants/{tenant}/reset": lambda w: answers(w.client.post(f"{MOLTIN_B}/reset", headers=CONTROL_HEADERS), 204),
    "POST /moltin/tenants/{tenant}/promotion-code-uses": moltin_use,
    "GET /moltin/tenants/{tenant}/snapshot": vendor_export,
    "PUT /moltin/tenants/{tenant}/snapshot": vendor_import,
    "POST /tenants/{tenant}/reset": reset_tenant,
    "GET /tenants/{tenant}/catalog": get_catalog,
    "POST /tenants/{tenant}/catalog": add_catalog,
    "PUT /tenants/{tenant}/catalog": replace_catalog,
    "GET /tenants/{tenant}/redemption-code-groups/{id}/codes": group_codes,
    "POST /tenants/{tenant}/redemptions": redeem,
    "POST /tenants/{tenant}/promotion-code-uses": use_promotion_code,
    "GET /tenants/{tenant}/snapshot": export_snapshot,
    "PUT /tenants/{tenant}/snapshot": import_snapshot,
    "PUT /moltin/tenants/{tenant}/promotion-jobs-hold": hold_jobs,
    "GET /moltin/tenants/{tenant}/rate-limits": moltin_rate_limits,
    "PUT /moltin/tenants/{tenant}/rate-limits": moltin_rate_limits,
    "POST /thoughtindustries/tenants/{tenant}/redemption-code-groups": lambda w: upload_group(w, TI_B),
    "POST /thoughtindustries/tenants/{tenant}/redemption-code-groups/{id}/added-codes": lambda w: add_group_codes(w, TI_B),
    "PUT /thoughtindustries/tenants/{tenant}/redemption-code-groups/{id}/gift": lambda w: set_gift(w, TI_B),
    "DELETE /thoughtindustries/tenants/{tenant}/redemption-code-groups/{id}": lambda w: delete_group(w, TI_B),
    "GET /thoughtindustries/tenants/{tenant}/rate-limits": lambda w: rate_limits(w, TI_B),
    "PUT /thoughtindustries/tenants/{tenant}/rate-limits": lambda w: rate_limits(w, TI_B),
}

# Control routes without a tenant act on the whole server, for whoever holds the admin token.
GLOBAL = {
    "GET /health": "reports the server, no tenant's data",
    "GET /metrics": "counts by vendor operation and status, and all tenants' codes together: no tenant's data",
    "POST /reset": "forgets every tenant: the test run's own reset",
    "GET /clock": "one clock for all tenants (README)",
    "PUT /clock": "one clock for all tenants",
    "DELETE /clock": "one clock for all tenants",
    "POST /clock/advance": "one clock for all tenants",
    "GET /journal": "every tenant's requests, filtered by `tenant` on request",
    "DELETE /journal": "the journal is the server's",
    "GET /faults": "fault rules match paths, whoever calls them",
    "POST /faults": "fault rules match paths, whoever calls them",
    "DELETE /faults": "fault rules match paths, whoever calls them",
    "DELETE /faults/{id}": "fault rules match paths, whoever calls them",
}


def operations(name: str) -> set[str]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {f"{method.upper()} {path}" for path, item in spec.load(name)["paths"].items() for method in item if method in methods}


def test_every_vendor_operation_is_in_the_table():
    assert set(VENDOR) == operations("openapi.yaml")


def test_every_control_operation_is_in_a_table():
    assert set(CONTROL) | set(GLOBAL) == operations("control.yaml")
    assert set(CONTROL) == {op for op in operations("control.yaml") if "{tenant}" in op}


@pytest.mark.parametrize("operation", [*VENDOR, *CONTROL])
def test_another_tenant_cannot_reach_the_first_ones_data(world, operation):
    before = world.state()
    (VENDOR | CONTROL)[operation](world)
    assert world.state() == before


class TestWithoutConfiguredCredentials:
    """Without `--ti-api-key` or `--moltin-client`, any key or client_id is a tenant of its own."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(access_log=False)

    @pytest.mark.parametrize(
        "operation",
        [
            "GET /incoming/v2/redemptionCodes",
            "GET /incoming/v2/redemptionCodes/{id}",
            "GET /incoming/v2/events/redemptionCodeRedeem",
            "GET /v2/promotions",
            "GET /v2/promotions/{id}",
            "DELETE /v2/promotions/{id}",
            "GET /tenants/{tenant}/snapshot",
        ],
    )
    def test_another_key_is_another_tenant(self, world, operation):
        before = world.state()
        (VENDOR | CONTROL)[operation](world)
        assert world.state() == before
