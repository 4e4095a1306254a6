"""The control plane: steering the stand-in from tests."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from codestand.moltin.promotions import actor

from codestand.core import tenants
from codestand.settings import Settings
from tests.conftest import TI_KEY, token_for
from tests.samples import GROUP, PROMOTION
from tests.test_promotions import VENDOR_EXAMPLE

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

# Learners are UUIDs, as the vendor's event feed types `userId`.
LEARNER_1 = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
LEARNERS = ("0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a")
# A POST without a JSON body says it is no browser's (see control/cross_site.py).
CONTROL_HEADERS = {"X-Codestand": "1"}


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


def create_group(ti, **changes) -> dict:
    body = {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 3, "courses": [COURSE], **changes}
    response = ti.post("/incoming/v2/redemptionCodes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def codes_of(client, group_id: str, tenant: str = TI_KEY) -> list[dict]:
    response = client.get(f"/__codestand/tenants/{tenant}/redemption-code-groups/{group_id}/codes")
    assert response.status_code == 200
    return response.json()["codes"]


def test_health(client):
    response = client.get("/__codestand/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "storage": "memory", "version": "0.1.0"}


def test_group_codes_as_json_and_csv(ti, store):
    group = create_group(ti)
    generated = store.group_codes(tenants.ti(TI_KEY), group["id"])
    assert codes_of(ti, group["id"]) == [{"code": c, "redeemed": False} for c in generated]
    response = ti.get(f"/__codestand/tenants/{TI_KEY}/redemption-code-groups/{group['id']}/codes?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == "code,redeemed\n" + "".join(f"{c},false\n" for c in generated)


class TestRedemption:
    def test_redeem_counts_and_shows_in_the_event_feed(self, ti, clock):
        group = create_group(ti)
        code = codes_of(ti, group["id"])[1]["code"]
        response = ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code.upper(), "userId": LEARNER_1})
        assert response.status_code == 201
        assert response.json() == {
            "code": code,
            "redemptionCodeGroupId": group["id"],
            "userId": LEARNER_1,
            "redeemedAt": "2025-03-01T12:00:00.000Z",
            "redeemedCodesCount": 1,
        }
        assert ti.get(f"/incoming/v2/redemptionCodes/{group['id']}").json()["redeemedCodesCount"] == 1
        assert codes_of(ti, group["id"])[1] == {"code": code, "redeemed": True}
        feed = ti.get("/incoming/v2/events/redemptionCodeRedeem").json()
        event = feed["data"]["APIEvents"]["events"][0]
        assert feed["data"]["APIEvents"]["pageInfo"] == {"perPage": 50, "cursor": None, "total": 1, "hasMore": False}
        assert event == {
            "id": event["id"],
            "type": "redemptionCodeRedeem",
            "timestamp": "2025-03-01T12:00:00.000Z",
            "userId": LEARNER_1,
            "notifiableId": group["id"],
            "notifiableType": "redemptionCodeGroup",
            "redemptionCode": code,
        }

    @pytest.mark.parametrize(
        ("case", "status", "title", "detail"),
        [
            ("unknown", 404, "Unknown code", "No redemption code nosuchcode exists for this tenant"),
            ("twice", 409, "Code already redeemed", "The code {code} has been redeemed already"),
            ("expired", 422, "Code expired", "The code {code} expired at 2025-02-01T00:00:00.000Z"),
        ],
    )
    def test_refusals_say_why(self, ti, clock, case, status, title, detail):
        group = create_group(ti, expirationDate="2025-02-01" if case == "expired" else None)
        code = "nosuchcode" if case == "unknown" else codes_of(ti, group["id"])[0]["code"]
        if case == "twice":
            ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": LEARNER_1})
        response = ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": LEARNER_1})
        assert response.status_code == status
        assert response.json() == {"errors": [{"status": status, "title": title, "detail": detail.format(code=code), "source": "code"}]}
        expected = 1 if case == "twice" else 0
        assert ti.get(f"/incoming/v2/redemptionCodes/{group['id']}").json()["redeemedCodesCount"] == expected

    def test_event_feed_filters_and_pages(self, ti, clock):
        group = create_group(ti, totalCodesCount=60)
        other = create_group(ti, totalCodesCount=1)
        for n, entry in enumerate(codes_of(ti, group["id"])[:55]):
            clock.freeze(datetime(2025, 3, 1 + n // 30, tzinfo=timezone.utc))
            ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": entry["code"], "userId": LEARNERS[n % 2]})
        ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": codes_of(ti, other["id"])[0]["code"], "userId": LEARNERS[0]})
        first = ti.get("/incoming/v2/events/redemptionCodeRedeem").json()["data"]["APIEvents"]
        assert (len(first["events"]), first["pageInfo"]["total"], first["pageInfo"]["hasMore"]) == (50, 56, True)
        second = ti.get(f"/incoming/v2/events/redemptionCodeRedeem?cursor={first['pageInfo']['cursor']}").json()["data"]["APIEvents"]
        assert (len(second["events"]), second["pageInfo"]["hasMore"], second["pageInfo"]["cursor"]) == (6, False, None)

        def total(query: str) -> int:
            return ti.get(f"/incoming/v2/events/redemptionCodeRedeem?{query}").json()["data"]["APIEvents"]["pageInfo"]["total"]

        assert total(f"userId={LEARNERS[1]}") == 27
        # A UUID in upper case names the same learner.
        assert total(f"userId={LEARNERS[1].upper()}") == 27
        assert total(f"notifiableId={other['id']}") == 1
        assert total("startDate=2025-03-02") == 26
        # Both ends are inclusive: "on or after", "on or before" (vendor page "List redemptionCodeRedeem").
        assert total("startDate=2025-03-01&endDate=2025-03-02T00:00:00Z") == 56
        assert total("endDate=2025-03-01T23:59:59.999Z") == 30
        # A date-only endDate is the whole of that day.
        assert total("endDate=2025-03-01") == 30
        # Unix milliseconds, as the REST overview says dates are: 2025-03-02T00:00:00Z.
        assert total("startDate=1740873600000") == 26
        assert total("endDate=1740873599999") == 30

    def test_event_feed_bad_dates_and_cursor(self, ti):
        response = ti.get("/incoming/v2/events/redemptionCodeRedeem?startDate=yesterday")
        assert response.status_code == 400
        response = ti.get("/incoming/v2/events/redemptionCodeRedeem?cursor=Z3JvdXBzOjA")  # a groups cursor
        assert response.status_code == 400
        assert response.json() == {"errors": ["cursor is not a cursor this server issued."]}


class TestPromotionCodeUse:
    @pytest.fixture
    def promotion(self, moltin) -> dict:
        data = {**VENDOR_EXAMPLE, "start": "2025-01-01", "end": "2025-06-01"}
        promotion = moltin.post("/v2/promotions", json={"data": data}).json()["data"]
        codes = [{"code": "FREE"}, {"code": "TWICE", "uses": 2}, {"code": "MINE", "user": "alice"}]
        moltin.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": codes}})
        return promotion

    def use(self, client, code, user=None):
        return client.post("/__codestand/tenants/store-1/promotion-code-uses", json={"code": code, **({"user": user} if user else {})})

    def test_uses_drop(self, moltin, clock, promotion):
        for left in (1, 0):
            response = self.use(moltin, "TWICE")
            assert response.status_code == 201
            assert response.json() == {"code": "TWICE", "promotion_id": promotion["id"], "uses_left": left}
        listed = moltin.get(f"/v2/promotions/{promotion['id']}/codes").json()["data"]
        twice = next(c for c in listed if c["code"] == "TWICE")
        assert set(twice.pop("meta")["timestamps"]) == {"created_at"}
        assert twice == {"code": "TWICE", "uses": 0, "max_uses": 2, "consume_unit": "per_cart", "created_by": actor("store-1")}
        response = self.use(moltin, "TWICE")
        assert response.status_code == 422
        assert response.json()["errors"][0]["title"] == "Code used up"
        assert self.use(moltin, "FREE").json()["uses_left"] is None

    def test_user_bound_code(self, moltin, clock, promotion):
        assert self.use(moltin, "MINE", "alice").status_code == 201
        response = self.use(moltin, "MINE", "bob")
        assert response.status_code == 422
        assert response.json() == {
            "errors": [{"status": 422, "title": "Code for another user", "detail": "The code MINE is kept for another user", "source": "user"}]
        }

    @pytest.mark.parametrize(
        ("when", "title"),
        [(datetime(2024, 12, 31, tzinfo=timezone.utc), "Promotion not started"), (datetime(2025, 6, 1, tzinfo=timezone.utc), "Promotion expired")],
    )
    def test_promotion_dates_follow_the_clock(self, moltin, clock, promotion, when, title):
        clock.freeze(when)
        response = self.use(moltin, "FREE")
        assert response.status_code == 422
        assert response.json()["errors"][0]["title"] == title

    def test_disabled_promotion(self, moltin, clock, promotion):
        moltin.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "enabled": False}})
        assert self.use(moltin, "FREE").json()["errors"][0]["title"] == "Promotion disabled"

    def test_unknown_code_is_the_vendor_cart_answer(self, moltin, promotion):
        response = self.use(moltin, "NOPE")
        assert response.status_code == 404
        assert response.json() == {
            "errors": [{"status": 404, "title": "Not Found", "detail": "No promotion could be found with the given code.", "source": "code"}]
        }


def test_clock_routes(client):
    response = client.put("/__codestand/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    assert response.json() == {"now": "2030-01-01T00:00:00.000Z", "frozen": True}
    response = client.post("/__codestand/clock/advance", json={"seconds": 90.5})
    assert response.json() == {"now": "2030-01-01T00:01:30.500Z", "frozen": True}
    assert client.get("/__codestand/clock").json() == {"now": "2030-01-01T00:01:30.500Z", "frozen": True}
    response = client.delete("/__codestand/clock")
    assert response.json()["frozen"] is False
    assert response.json()["now"][:4] != "2030"


def test_catalog_names_what_groups_give(ti):
    course = "2b1f0c7e-3d4a-4b5c-8d6e-7f8091a2b3c4"
    response = ti.post(f"/__codestand/tenants/{TI_KEY}/catalog", json={"courses": [{"id": course.upper(), "title": "Safety Basics"}]})
    assert response.status_code == 200
    assert response.json() == {
        "courses": [{"id": course, "title": "Safety Basics"}],
        "bundles": [],
        "licenses": [],
        "learningPaths": [],
        "clients": [],
    }
    assert create_group(ti, courses=[course])["courses"] == [{"id": course, "title": "Safety Basics"}]
    ti.put(f"/__codestand/tenants/{TI_KEY}/catalog", json={"bundles": [{"id": "b1", "name": "B"}]})
    assert ti.get(f"/__codestand/tenants/{TI_KEY}/catalog").json()["courses"] == []


def test_reset_one_tenant_or_all(ti, client):
    kept = create_group(ti)
    client.headers["Authorization"] = "Bearer other-key"
    gone = create_group(client)
    assert client.post("/__codestand/tenants/other-key/reset", headers=CONTROL_HEADERS).status_code == 204
    assert client.get(f"/incoming/v2/redemptionCodes/{gone['id']}").status_code == 404
    client.headers["Authorization"] = f"Bearer {TI_KEY}"
    assert client.get(f"/incoming/v2/redemptionCodes/{kept['id']}").status_code == 200
    assert client.post("/__codestand/reset", headers=CONTROL_HEADERS).status_code == 204
    assert client.get(f"/incoming/v2/redemptionCodes/{kept['id']}").status_code == 404


def test_snapshot_round_trip(ti, client, clock):
    group = create_group(ti, expirationDate="2026-01-01", client="0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b")
    code = codes_of(ti, group["id"])[0]["code"]
    ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": LEARNER_1})
    snapshot = ti.get(f"/__codestand/tenants/{TI_KEY}/snapshot").json()
    before = (ti.get("/incoming/v2/redemptionCodes").json(), codes_of(ti, group["id"]), ti.get("/incoming/v2/events/redemptionCodeRedeem").json())
    ti.post(f"/__codestand/tenants/{TI_KEY}/reset", headers=CONTROL_HEADERS)
    assert ti.get("/incoming/v2/redemptionCodes").json()["pageInfo"]["total"] == 0
    assert ti.put(f"/__codestand/tenants/{TI_KEY}/snapshot", json=snapshot).status_code == 204
    after = (ti.get("/incoming/v2/redemptionCodes").json(), codes_of(ti, group["id"]), ti.get("/incoming/v2/events/redemptionCodeRedeem").json())
    assert after == before
    assert ti.get(f"/__codestand/tenants/{TI_KEY}/snapshot").json() == snapshot


def test_a_snapshot_does_not_name_its_tenant(ti):
    # The tenant's name may be a Thought Industries key, a secret; a snapshot is a file that gets
    # passed around. It is restored into whichever tenant it is put to.
    group = create_group(ti)
    response = ti.get(f"/__codestand/tenants/{TI_KEY}/snapshot")
    assert "tenant" not in response.json()
    assert TI_KEY not in response.text
    # One that names a tenant (exported by an earlier version) is still accepted.
    older = {**response.json(), "tenant": TI_KEY}
    assert ti.put("/__codestand/tenants/another-key/snapshot", json=older).status_code == 204
    assert ti.get(f"/incoming/v2/redemptionCodes/{group['id']}", headers={"Authorization": "Bearer another-key"}).status_code == 200


def test_moltin_snapshot_round_trip(moltin, clock):
    promotion = moltin.post("/v2/promotions", json={"data": {**VENDOR_EXAMPLE, "end": "2030-01-01", "automatic": False}}).json()["data"]
    moltin.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": [{"code": "A", "uses": 3, "user": "u"}]}})
    moltin.post("/__codestand/tenants/store-1/promotion-code-uses", json={"code": "A", "user": "u"})
    snapshot = moltin.get("/__codestand/tenants/store-1/snapshot").json()
    before = moltin.get(f"/v2/promotions/{promotion['id']}/codes").json()
    moltin.post("/__codestand/tenants/store-1/reset", headers=CONTROL_HEADERS)
    assert moltin.put("/__codestand/tenants/store-1/snapshot", json=snapshot).status_code == 204
    assert moltin.get(f"/v2/promotions/{promotion['id']}").json() == {"data": promotion}
    assert moltin.get(f"/v2/promotions/{promotion['id']}/codes").json() == before


def test_a_bad_snapshot_changes_nothing(ti):
    group = create_group(ti)
    snapshot = ti.get(f"/__codestand/tenants/{TI_KEY}/snapshot").json()
    snapshot["redemptionCodeGroups"].append(dict(snapshot["redemptionCodeGroups"][0], id="copy"))
    response = ti.put(f"/__codestand/tenants/{TI_KEY}/snapshot", json=snapshot)
    assert response.status_code == 400
    code = snapshot["redemptionCodeGroups"][0]["codes"][0]
    assert response.json() == {
        "errors": [{"status": 400, "title": "Bad snapshot", "detail": f"The snapshot cannot be restored: code {code} appears twice"}]
    }
    assert ti.get(f"/incoming/v2/redemptionCodes/{group['id']}").status_code == 200


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("group", "totalCodesCount", 2**64),
        ("group", "codeLength", 2**63),
        ("group", "accessDays", 2**64),
        ("group", "codeLength", -5),
        ("group", "expirationDate", 5),
        ("code", "used", 2**64),
        ("code", "uses", 2**63),
        ("code", "uses", 0),
        # Date-times whose offset takes them out of the years a datetime holds: the restore
        # failed half-way, or the tenant could no longer be exported.
        ("group", "createdAt", "0001-01-01T00:00:00+01:00"),
        ("group", "expirationDate", "9999-12-31T23:59:59-01:00"),
        ("promotion", "start", "0001-01-01T00:00:00+01:00"),
        ("promotion", "end", "9999-12-31T23:59:59-01:00"),
        ("group", "courses", [{"id": 5, "name": None}]),
    ],
)
def test_a_snapshot_no_store_can_hold_changes_nothing(client, where, field, value):
    # SQLite's integers stop at 2**63 - 1: the restore failed half-way, after the tenant had been
    # reset, with a 500 (and the memory store kept what SQLite could not). Dates and ids below.
    if where == "group":
        tenant, headers = TI_KEY, {"Authorization": f"Bearer {TI_KEY}"}
        body = {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 3, "courses": [COURSE]}
        assert client.post("/incoming/v2/redemptionCodes", json=body, headers=headers).status_code == 201
    else:  # a promotion or one of its codes
        tenant, headers = "store-1", {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
        promotion = client.post("/v2/promotions", json={"data": VENDOR_EXAMPLE}, headers=headers).json()["data"]
        codes = {"data": {"type": "promotion_codes", "codes": [{"code": "A", "uses": 3}]}}
        assert client.post(f"/v2/promotions/{promotion['id']}/codes", json=codes, headers=headers).status_code == 201
    snapshot = client.get(f"/__codestand/tenants/{tenant}/snapshot").json()
    changed = json.loads(json.dumps(snapshot))
    target = {
        "group": lambda: changed["redemptionCodeGroups"][0],
        "promotion": lambda: changed["promotions"][0],
        "code": lambda: changed["promotions"][0]["codes"][0],
    }[where]()
    target[field] = value
    response = client.put(f"/__codestand/tenants/{tenant}/snapshot", json=changed)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert field in error.get("source", "") or str(value) in error["detail"], error
    assert client.get(f"/__codestand/tenants/{tenant}/snapshot").json() == snapshot


def test_a_snapshot_date_without_offset_is_utc(ti):
    group = create_group(ti)
    snapshot = ti.get(f"/__codestand/tenants/{TI_KEY}/snapshot").json()
    snapshot["redemptionCodeGroups"][0]["expirationDate"] = "2030-01-01T00:00:00"
    assert ti.put(f"/__codestand/tenants/{TI_KEY}/snapshot", json=snapshot).status_code == 204
    assert ti.get(f"/incoming/v2/redemptionCodes/{group['id']}").json()["expirationDate"] == "2030-01-01T00:00:00.000Z"
    # Kept as sent, it was compared with the clock's aware time: a 500.
    code = codes_of(ti, group["id"])[0]["code"]
    assert ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": LEARNER_1}).status_code == 201


TOO_BIG = 10**20  # more than a 64-bit integer: SQLite cannot hold it


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("group", "codeLength", TOO_BIG),
        ("group", "codeLength", 3),
        ("group", "totalCodesCount", TOO_BIG),
        ("group", "accessDays", TOO_BIG),
        ("group", "expirationDate", TOO_BIG),
        ("group", "accessExpirationDate", "soon"),
        ("group", "courses", [{"id": 5, "name": "a course"}]),
        ("group", "client", {"name": "no id"}),
        ("code", "uses", TOO_BIG),
        ("code", "used", TOO_BIG),
        ("code", "user", 7),
    ],
)
def test_a_snapshot_out_of_range_changes_nothing(client, where, field, value):
    # Found by Schemathesis on the sqlite store: a 500, after the tenant had been emptied.
    ti = {"Authorization": f"Bearer {TI_KEY}"}
    group = client.post("/incoming/v2/redemptionCodes", json={"label": "L", "codeLength": 8, "totalCodesCount": 2, "courses": [COURSE]}, headers=ti).json()
    moltin = {"Authorization": f"Bearer {token_for(client, TI_KEY)}"}
    promotion = client.post("/v2/promotions", json={"data": {**VENDOR_EXAMPLE, "end": "2030-01-01"}}, headers=moltin).json()["data"]
    client.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": [{"code": "A"}]}}, headers=moltin)
    before = client.get(f"/__codestand/tenants/{TI_KEY}/snapshot").json()
    snapshot = copy.deepcopy(before)
    target = snapshot["redemptionCodeGroups"][0] if where == "group" else snapshot["promotions"][0]["codes"][0]
    target[field] = value
    response = client.put(f"/__codestand/tenants/{TI_KEY}/snapshot", json=snapshot)
    assert response.status_code == 400, response.text
    assert client.get(f"/__codestand/tenants/{TI_KEY}/snapshot").json() == before
    assert client.get(f"/incoming/v2/redemptionCodes/{group['id']}", headers=ti).status_code == 200


ADMIN = "let-me-in"
NEEDS_ADMIN = {
    "errors": [{"status": 401, "title": "Unauthorized", "detail": "This control route needs the admin token: Authorization: Bearer <token>"}]
}
# Not the admin token: a wrong one, near misses, another scheme, the token anywhere but the header.
WRONG = [
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {ADMIN}x"},
    {"Authorization": f"Bearer {ADMIN[:-1]}"},
    {"Authorization": f"Bearer {ADMIN.upper()}"},
    {"Authorization": ADMIN},
    {"Authorization": f"Bearer: {ADMIN}"},
    {"Authorization": "Basic bGV0LW1lLWlu"},
    {"Authorization": "Bearer "},
    {"Cookie": f"token={ADMIN}"},
    {"X-Admin-Token": ADMIN},
]


def http_operations(name: str) -> set[str]:
    from codestand import spec

    methods = {"get", "put", "post", "delete", "patch"}
    return {f"{m.upper()} {path}" for path, item in spec.load(name)["paths"].items() for m in item if m in methods}


class TestAdminToken:
    """With `--admin-token`, every control route (by `control.yaml`, every method), the control
    plane's spec and Swagger UI answer 401 without the token or with anything else, and work
    with it; the vendor routes never ask for it."""

    @pytest.fixture
    def settings(self):
        return Settings(access_log=False, admin_token=ADMIN)

    @pytest.fixture
    def calls(self, client) -> list[tuple[str, str, str, dict | None]]:
        """One request of each control operation that succeeds, in an order that lets each
        succeed: (operation, method, path, JSON body)."""
        ti = {"Authorization": "Bearer t-key"}
        group = client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 2}, headers=ti).json()
        doomed = client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 1}, headers=ti).json()
        doomed_too = client.post("/incoming/v2/redemptionCodes", json={**GROUP, "totalCodesCount": 1}, headers=ti).json()
        moltin = {"Authorization": f"Bearer {token_for(client, 't-store')}"}
        promotion = client.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]
        added = client.post(
            f"/v2/promotions/{promotion['id']}/codes",
            json={"data": {"type": "promotion_codes", "codes": [{"code": "USE-ME"}]}},
            headers=moltin,
        )
        assert added.status_code == 201, added.text
        codes = self.admin(client, "GET", f"/__codestand/tenants/t-key/redemption-code-groups/{group['id']}/codes").json()["codes"]
        code = codes[0]["code"]
        snapshot = self.admin(client, "GET", "/__codestand/tenants/t-key/snapshot").json()
        ti_snapshot = self.admin(client, "GET", "/__codestand/thoughtindustries/tenants/t-key/snapshot").json()
        moltin_snapshot = self.admin(client, "GET", "/__codestand/moltin/tenants/t-store/snapshot").json()
        ti_route, moltin_route = "/thoughtindustries/tenants/{tenant}", "/moltin/tenants/{tenant}"
        fault = {"path": "/nothing/*", "status": 503}
        course = {"courses": [{"id": COURSE, "title": "Renamed"}]}
        return [
            ("GET /health", "GET", "/health", None),
            ("GET /metrics", "GET", "/metrics", None),
            ("GET /tenants/{tenant}/catalog", "GET", "/tenants/t-key/catalog", None),
            ("POST /tenants/{tenant}/catalog", "POST", "/tenants/t-key/catalog", course),
            ("PUT /tenants/{tenant}/catalog", "PUT", "/tenants/t-key/catalog", course),
            ("GET /tenants/{tenant}/redemption-code-groups/{id}/codes", "GET", f"/tenants/t-key/redemption-code-groups/{group['id']}/codes", None),
            ("POST /tenants/{tenant}/redemptions", "POST", "/tenants/t-key/redemptions", {"code": code, "userId": LEARNER_1}),
            ("POST /tenants/{tenant}/redemption-code-groups", "POST", "/tenants/t-key/redemption-code-groups",
             {"label": "Uploaded", "codes": ["admin-gate-1"], "courses": [COURSE]}),
            ("POST /tenants/{tenant}/redemption-code-groups/{id}/added-codes", "POST",
             f"/tenants/t-key/redemption-code-groups/{group['id']}/added-codes", {"count": 1}),
            ("PUT /tenants/{tenant}/redemption-code-groups/{id}/gift", "PUT",
             f"/tenants/t-key/redemption-code-groups/{group['id']}/gift", {"gift": True}),
            ("DELETE /tenants/{tenant}/redemption-code-groups/{id}", "DELETE", f"/tenants/t-key/redemption-code-groups/{doomed['id']}", None),
            ("GET /tenants/{tenant}/rate-limits", "GET", "/tenants/t-key/rate-limits", None),
            ("PUT /tenants/{tenant}/rate-limits", "PUT", "/tenants/t-key/rate-limits", {"plan": "standard"}),
            ("POST /tenants/{tenant}/promotion-code-uses", "POST", "/tenants/t-store/promotion-code-uses", {"code": "USE-ME"}),
            ("PUT /moltin/tenants/{tenant}/promotion-jobs-hold", "PUT", "/moltin/tenants/t-other/promotion-jobs-hold", {"hold": False}),
            ("GET /tenants/{tenant}/snapshot", "GET", "/tenants/t-key/snapshot", None),
            ("PUT /tenants/{tenant}/snapshot", "PUT", "/tenants/t-key/snapshot", snapshot),
            # The same, naming the vendor.
            (f"GET {ti_route}/catalog", "GET", "/thoughtindustries/tenants/t-key/catalog", None),
            (f"POST {ti_route}/catalog", "POST", "/thoughtindustries/tenants/t-key/catalog", course),
            (f"PUT {ti_route}/catalog", "PUT", "/thoughtindustries/tenants/t-key/catalog", course),
            (f"GET {ti_route}/redemption-code-groups/{{id}}/codes", "GET", f"/thoughtindustries/tenants/t-key/redemption-code-groups/{group['id']}/codes", None),
            (f"POST {ti_route}/redemptions", "POST", "/thoughtindustries/tenants/t-key/redemptions", {"code": codes[1]["code"], "userId": LEARNER_1}),
            (f"GET {ti_route}/snapshot", "GET", "/thoughtindustries/tenants/t-key/snapshot", None),
            (f"POST {ti_route}/redemption-code-groups", "POST", "/thoughtindustries/tenants/t-key/redemption-code-groups",
             {"label": "Uploaded", "codes": ["admin-gate-2"], "courses": [COURSE]}),
            (f"POST {ti_route}/redemption-code-groups/{{id}}/added-codes", "POST",
             f"/thoughtindustries/tenants/t-key/redemption-code-groups/{group['id']}/added-codes", {"count": 1}),
            (f"PUT {ti_route}/redemption-code-groups/{{id}}/gift", "PUT",
             f"/thoughtindustries/tenants/t-key/redemption-code-groups/{group['id']}/gift", {"gift": False}),
            (f"DELETE {ti_route}/redemption-code-groups/{{id}}", "DELETE", f"/thoughtindustries/tenants/t-key/redemption-code-groups/{doomed_too['id']}", None),
            (f"GET {ti_route}/rate-limits", "GET", "/thoughtindustries/tenants/t-key/rate-limits", None),
            (f"PUT {ti_route}/rate-limits", "PUT", "/thoughtindustries/tenants/t-key/rate-limits", {"plan": "standard"}),
            (f"GET {moltin_route}/rate-limits", "GET", "/moltin/tenants/t-store/rate-limits", None),
            (f"PUT {moltin_route}/rate-limits", "PUT", "/moltin/tenants/t-store/rate-limits", {"enforced": False}),
            (f"PUT {ti_route}/snapshot", "PUT", "/thoughtindustries/tenants/t-key/snapshot", ti_snapshot),
            (f"POST {moltin_route}/promotion-code-uses", "POST", "/moltin/tenants/t-store/promotion-code-uses", {"code": "USE-ME"}),
            (f"GET {moltin_route}/snapshot", "GET", "/moltin/tenants/t-store/snapshot", None),
            (f"PUT {moltin_route}/snapshot", "PUT", "/moltin/tenants/t-store/snapshot", moltin_snapshot),
            (f"POST {ti_route}/reset", "POST", "/thoughtindustries/tenants/t-key/reset", None),
            (f"POST {moltin_route}/reset", "POST", "/moltin/tenants/t-store/reset", None),
            ("GET /clock", "GET", "/clock", None),
            ("PUT /clock", "PUT", "/clock", {"now": "2030-01-01T00:00:00Z"}),
            ("POST /clock/advance", "POST", "/clock/advance", {"seconds": 60}),
            ("DELETE /clock", "DELETE", "/clock", None),
            ("GET /journal", "GET", "/journal", None),
            ("DELETE /journal", "DELETE", "/journal", None),
            ("GET /faults", "GET", "/faults", None),
            ("POST /faults", "POST", "/faults", fault),
            ("DELETE /faults/{id}", "DELETE", "/faults/1", None),
            ("DELETE /faults", "DELETE", "/faults", None),
            ("POST /tenants/{tenant}/reset", "POST", "/tenants/t-key/reset", None),
            ("POST /reset", "POST", "/reset", None),
            # The control plane's contract and Swagger UI.
            ("spec", "GET", "/openapi.json", None),
            ("ui", "GET", "/ui/", None),
        ]

    @staticmethod
    def admin(client, method, path, json=None, headers=None):
        return client.request(method, path, json=json, headers=headers if headers is not None else {"Authorization": f"Bearer {ADMIN}", **CONTROL_HEADERS})

    def test_the_calls_cover_every_control_operation(self, calls):
        assert {operation for operation, *_ in calls} - {"spec", "ui"} == http_operations("control.yaml")

    def test_every_control_route_needs_it(self, client, calls):
        ti = {"Authorization": "Bearer t-key"}
        groups = client.get("/incoming/v2/redemptionCodes", headers=ti).json()
        clock = self.admin(client, "GET", "/__codestand/clock").json()
        for operation, method, path, body in calls:
            for headers in [{}, *WRONG]:
                response = self.admin(client, method, f"/__codestand{path}", body, headers)
                assert (operation, headers, response.status_code, response.json()) == (operation, headers, 401, NEEDS_ADMIN)
        # Refused before anything happened: nothing reset, redeemed or moved.
        assert client.get("/incoming/v2/redemptionCodes", headers=ti).json() == groups
        assert self.admin(client, "GET", "/__codestand/clock").json() == clock
        assert self.admin(client, "GET", "/__codestand/faults").json() == {"faults": []}

    @pytest.mark.parametrize("path", ["", "/", "/nothing", "/ui", "/ui/swagger-ui.css", "/openapi.yaml", "//journal"])
    def test_every_path_under_the_prefix_needs_it(self, client, path):
        response = client.get(f"/__codestand{path}")
        assert (response.status_code, response.json()) == (401, NEEDS_ADMIN)
        for method in ("POST", "PATCH", "OPTIONS", "HEAD"):
            assert client.request(method, f"/__codestand{path}").status_code == 401

    def test_every_control_route_works_with_it(self, client, calls):
        for operation, method, path, body in calls:
            response = self.admin(client, method, f"/__codestand{path}", body)
            assert (operation, response.status_code // 100) == (operation, 2), response.text

    def test_vendor_routes_do_not_need_it(self, client, clock):
        ti = {"Authorization": "Bearer t-key"}
        moltin = {"Authorization": f"Bearer {token_for(client, 't-store')}"}
        group = client.post("/incoming/v2/redemptionCodes", json=GROUP, headers=ti).json()
        promotion = client.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]
        codes = {"data": {"type": "promotion_codes", "codes": [{"code": "MINE"}]}}
        # Jobs by a frozen clock: an export done by the time its file is asked for, a code
        # generation still processing when it is cancelled.
        clock.freeze(clock.now())
        export = {"job_type": "code_export"}
        exported = client.post(f"/v2/promotions/{promotion['id']}/jobs", json=export, headers=moltin).json()["data"]
        clock.advance(timedelta(seconds=2))
        other = client.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]
        running = client.post(f"/v2/promotions/{other['id']}/jobs", json={"job_type": "code_generate"}, headers=moltin).json()["data"]
        third = client.post("/v2/promotions", json=PROMOTION, headers=moltin).json()["data"]
        job_path = f"/v2/promotions/{promotion['id']}/jobs/{exported['id']}"
        calls = {
            "GET /incoming/v2/ping": ("GET", "/incoming/v2/ping", ti, None),
            "POST /incoming/v2/redemptionCodes": ("POST", "/incoming/v2/redemptionCodes", ti, GROUP),
            "GET /incoming/v2/redemptionCodes": ("GET", "/incoming/v2/redemptionCodes", ti, None),
            "GET /incoming/v2/redemptionCodes/{id}": ("GET", f"/incoming/v2/redemptionCodes/{group['id']}", ti, None),
            "GET /incoming/v2/events/redemptionCodeRedeem": ("GET", "/incoming/v2/events/redemptionCodeRedeem", ti, None),
            "POST /v2/promotions": ("POST", "/v2/promotions", moltin, PROMOTION),
            "GET /v2/promotions": ("GET", "/v2/promotions", moltin, None),
            "GET /v2/promotions/{id}": ("GET", f"/v2/promotions/{promotion['id']}", moltin, None),
            "PUT /v2/promotions/{id}": ("PUT", f"/v2/promotions/{promotion['id']}", moltin, {"data": {"type": "promotion", "name": "New"}}),
            "POST /v2/promotions/{id}/codes": ("POST", f"/v2/promotions/{promotion['id']}/codes", moltin, codes),
            "GET /v2/promotions/{id}/codes": ("GET", f"/v2/promotions/{promotion['id']}/codes", moltin, None),
            "GET /v2/promotions/{id}/history": ("GET", f"/v2/promotions/{promotion['id']}/history", moltin, None),
            "GET /v2/promotions/attributes": ("GET", "/v2/promotions/attributes", moltin, None),
            "POST /v2/promotions/{id}/jobs": ("POST", f"/v2/promotions/{third['id']}/jobs", moltin, export),
            "GET /v2/promotions/{id}/jobs": ("GET", f"/v2/promotions/{promotion['id']}/jobs", moltin, None),
            "GET /v2/promotions/{id}/jobs/{jobId}/file": ("GET", f"{job_path}/file", moltin, None),
            "GET /v2/promotions/{id}/jobs/{jobId}/codes.csv": ("GET", f"{job_path}/codes.csv", moltin, None),
            "GET /v2/promotions/{id}/usages": ("GET", f"/v2/promotions/{promotion['id']}/usages", moltin, None),
            "GET /v2/promotions/{id}/codes/{code}/usages": ("GET", f"/v2/promotions/{promotion['id']}/codes/MINE/usages", moltin, None),
            "POST /v2/promotions/usages/anonymize": ("POST", "/v2/promotions/usages/anonymize", moltin, {"data": {"usage_ids": ["none"]}}),
            "POST /v2/promotions/{id}/jobs/{jobId}/cancel": ("POST", f"/v2/promotions/{other['id']}/jobs/{running['id']}/cancel", moltin, None),
            "DELETE /v2/promotions/{id}/codes/{code}": ("DELETE", f"/v2/promotions/{promotion['id']}/codes/MINE", moltin, None),
            "DELETE /v2/promotions/{id}/codes": ("DELETE", f"/v2/promotions/{promotion['id']}/codes", moltin, codes),
            "DELETE /v2/promotions/{id}": ("DELETE", f"/v2/promotions/{promotion['id']}", moltin, None),
        }
        form = {"grant_type": "client_credentials", "client_id": "t-store", "client_secret": "s"}
        assert client.post("/oauth/access_token", data=form).status_code == 200
        assert set(calls) | {"POST /oauth/access_token"} == http_operations("openapi.yaml")
        for operation, (method, path, headers, body) in calls.items():
            response = client.request(method, path, json=body, headers=headers)
            assert (operation, response.status_code // 100) == (operation, 2), response.text

    @pytest.mark.parametrize("others", [["Bearer wrong"], ["Bearer let-me-in"]], ids=["another", "the-same"])
    def test_the_token_must_come_alone(self, client, store, others):
        # The last of several Authorization headers was the one checked: a proxy that adds its
        # own header first let a reset through.
        ti = {"Authorization": f"Bearer {TI_KEY}"}
        body = {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 3, "courses": [COURSE]}
        assert client.post("/incoming/v2/redemptionCodes", json=body, headers=ti).status_code == 201
        for headers in ([("Authorization", other), ("Authorization", "Bearer let-me-in")] for other in others):
            response = client.post("/__codestand/reset", headers=headers)
            assert response.status_code == 401
        assert client.get("/incoming/v2/redemptionCodes", headers=ti).json()["pageInfo"]["total"] == 1


@pytest.mark.parametrize("path", ["/__codestand/tenants/store-1/reset", "/__codestand/reset"])
def test_tokens_survive_a_reset(client, path):
    # Real time here: a full reset also puts the clock back, which would age a token issued at
    # this module's frozen moment.
    client.app.codestand.clock.reset()
    client.headers["Authorization"] = f"Bearer {token_for(client, 'store-1')}"
    assert client.post(path, headers=CONTROL_HEADERS).status_code == 204
    assert client.get("/v2/promotions").status_code == 200


def test_a_clock_time_without_offset_is_utc(client):
    response = client.put("/__codestand/clock", json={"now": "2030-01-01T00:00:00", "frozen": True})
    assert (response.status_code, response.json()) == (200, {"now": "2030-01-01T00:00:00.000Z", "frozen": True})


@pytest.mark.parametrize(
    ("now", "frozen"),
    [("9999-12-31T23:59:59Z", False), ("9999-12-31T23:59:59Z", True), ("9999-06-01T00:00:00Z", False), ("0001-01-01T00:00:00+01:00", True)],
)
def test_the_clock_stays_where_every_date_fits(client, now, frozen):
    # A clock left running at the very end of year 9999 (or set before year 1 by its offset)
    # made every later request a 500 until the clock was reset, and the refused PUT had moved it.
    before = client.get("/__codestand/clock").json()
    response = client.put("/__codestand/clock", json={"now": now, "frozen": frozen})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "status": 400,
                "title": "Bad Request",
                "detail": "The clock must stay between 0001-01-02T00:00:00.000Z and 9999-01-01T00:00:00.000Z",
                "source": "now",
            }
        ]
    }
    assert client.get("/__codestand/clock").json()["frozen"] == before["frozen"]
    assert client.get("/incoming/v2/ping", headers={"Authorization": f"Bearer {TI_KEY}"}).status_code == 200


def test_the_clock_cannot_be_advanced_past_its_end(client):
    assert client.put("/__codestand/clock", json={"now": "9998-12-01T00:00:00Z", "frozen": True}).status_code == 200
    for _ in range(2):
        response = client.post("/__codestand/clock/advance", json={"seconds": 3_153_600_000})
        assert response.status_code == 400
        assert response.json()["errors"][0]["source"] == "seconds"
    assert client.get("/__codestand/clock").json() == {"now": "9998-12-01T00:00:00.000Z", "frozen": True}
    assert client.put("/__codestand/clock", json={"now": "9999-01-01T00:00:00Z"}).status_code == 200


@pytest.mark.parametrize("tenant", ["%2E", "%2E%2E", "%2e%2E"])
@pytest.mark.parametrize(("method", "route"), [("GET", "snapshot"), ("GET", "catalog"), ("POST", "reset")])
def test_dot_segments_name_no_tenant(client, tenant, method, route):
    # A client (or proxy) removes `.` and `..` from a path before sending it, so no request
    # meant for such a tenant arrives as sent; one that does is a path climbing somewhere.
    response = client.request(method, f"/__codestand/tenants/{tenant}/{route}", headers=CONTROL_HEADERS)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == "tenant"


def test_a_tenant_may_still_hold_dots(client):
    assert client.get("/__codestand/tenants/.../snapshot").status_code == 200
    assert client.get("/__codestand/tenants/my.store/snapshot").status_code == 200
