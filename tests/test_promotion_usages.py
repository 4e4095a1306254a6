"""Moltin promotion usages, fed by the control plane's shopper code uses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from codestand.moltin.promotions import actor
from tests.test_promotions import VENDOR_EXAMPLE, error

NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
USE = "/__codestand/tenants/store-1/promotion-code-uses"


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


@pytest.fixture
def promotion(moltin, clock) -> dict:
    data = moltin.post("/v2/promotions", json={"data": {**VENDOR_EXAMPLE, "start": "2024-01-01", "end": "2030-01-01"}}).json()["data"]
    codes = [{"code": "ONE"}, {"code": "TWO"}]
    assert moltin.post(f"/v2/promotions/{data['id']}/codes", json={"data": {"type": "promotion_codes", "codes": codes}}).status_code == 201
    return data


def test_uses_show_as_usages(moltin, client, clock, promotion):
    assert client.post(USE, json={"code": "ONE", "user": "cust-1", "order_id": "order-1", "customer_email": "a@b.c"}).status_code == 201
    clock.advance(timedelta(minutes=30))  # tokens last an hour
    assert client.post(USE, json={"code": "TWO"}).status_code == 201
    response = moltin.get(f"/v2/promotions/{promotion['id']}/usages")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [u["code"] for u in body["data"]] == ["TWO", "ONE"]  # newest first [doc]
    one = body["data"][1]
    assert one == {
        "id": one["id"], "order_id": "order-1", "code_id": one["code_id"], "code": "ONE", "times_used": 1,
        "used_on": "2024-03-01T12:00:00.000Z", "customer_id": "cust-1", "customer_email": "a@b.c",
        "meta": {"timestamps": {"updated_at": "2024-03-01T12:00:00.000Z"}}, "anonymized": False,
    }  # fmt: skip
    assert body["meta"]["results"] == {"total": 2}
    assert [u["code"] for u in moltin.get(f"/v2/promotions/{promotion['id']}/usages?filter=gt(used_on,2024-03-01T12:10:00Z)").json()["data"]] == ["TWO"]
    assert [u["code"] for u in moltin.get(f"/v2/promotions/{promotion['id']}/usages?sort=code").json()["data"]] == ["ONE", "TWO"]
    code = moltin.get(f"/v2/promotions/{promotion['id']}/codes/ONE/usages").json()
    assert code["data"] == [one]

    clock.advance(timedelta(seconds=1))
    response = moltin.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": [one["id"], "nope"]}})
    assert response.status_code == 200
    anonymized = {**one, "customer_email": "**", "updated_by": actor("store-1"), "anonymized": True,
                  "meta": {"timestamps": {"updated_at": "2024-03-01T12:30:01.000Z"}}}  # fmt: skip
    assert response.json() == {
        "data": [anonymized],
        "errors": [{"status": "404", "title": "Could not anonymize some usages", "detail": "Usages not found.", "meta": {"usage_ids": ["nope"]}}],
    }
    assert moltin.get(f"/v2/promotions/{promotion['id']}/codes/ONE/usages").json()["data"] == [anonymized]


def test_usage_refusals(moltin, promotion):
    response = moltin.get(f"/v2/promotions/{promotion['id']}/usages?filter=eq(order_id,x)")
    assert (response.status_code, response.json()) == (400, {"errors": [error(400, "Bad Request", "Could not parse the supplied filter")]})
    response = moltin.get(f"/v2/promotions/{promotion['id']}/codes/ONE/usages?sort=code")
    assert (response.status_code, response.json()) == (400, {"errors": [error(400, "Bad Request", "sort is invalid: 'code' is not one of ['used_on', '-used_on']", "sort")]})
    response = moltin.get("/v2/promotions/nope/usages")
    assert (response.status_code, response.json()) == (404, {"errors": [error(404, "Not Found", "promotion not found")]})
