"""A Moltin store's snapshot keeps each promotion's history, jobs and usages: restored, the store
answers `GET .../history`, `.../jobs`, a finished export's file and `.../usages` as before.

Before: a snapshot held a promotion's fields and codes only; a restored promotion had no history
at all (not even its creation), no jobs and no usages.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from tests.samples import PROMOTION

SNAPSHOT = "/__codestand/moltin/tenants/store-1/snapshot"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
JOB_ID = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e"


@pytest.fixture
def store_with_records(moltin, clock):
    clock.freeze(NOW)
    promotion = moltin.post("/v2/promotions", json=PROMOTION).json()["data"]
    one = f"/v2/promotions/{promotion['id']}"
    clock.advance(timedelta(seconds=5))
    assert moltin.put(one, json={"data": {"type": "promotion", "name": "Renamed"}}).status_code == 200
    codes = {"data": {"type": "promotion_codes", "codes": [{"code": "SPRING", "uses": 3}]}}
    assert moltin.post(f"{one}/codes", json=codes).status_code == 201
    used = moltin.post(
        "/__codestand/moltin/tenants/store-1/promotion-code-uses",
        json={"code": "SPRING", "user": "shopper-1", "order_id": "order-7", "customer_email": "a@example.com"},
    )
    assert used.status_code == 201, used.text
    generate = {"type": "promotion_job", "job_type": "code_generate", "parameters": {"number_of_codes": 2}}
    assert moltin.post(f"{one}/jobs", json=generate).status_code == 201
    assert moltin.get(f"{one}/jobs").status_code == 200  # started
    clock.advance(timedelta(seconds=2))
    export = moltin.post(f"{one}/jobs", json={"type": "promotion_job", "job_type": "code_export"}).json()["data"]
    assert moltin.get(f"{one}/jobs").status_code == 200
    clock.advance(timedelta(seconds=2))
    return moltin, one, export


def answers(client, one: str, export: dict) -> dict:
    """What a client reads of the promotion's records."""
    return {
        path: client.get(f"{one}{path}").json()
        for path in ("", "/history", "/codes", "/jobs", f"/jobs/{export['id']}/file", "/usages")
    } | {"codes.csv": client.get(f"{one}/jobs/{export['id']}/codes.csv").text}


def test_history_jobs_and_usages_come_back_as_they_were(store_with_records):
    client, one, export = store_with_records
    before = answers(client, one, export)
    assert [v["name"] for v in before["/history"]["data"]] == ["Promo #1", "Renamed"]
    assert [(j["job_type"], j["status"]) for j in before["/jobs"]["data"]] == [("code_generate", "completed"), ("code_export", "completed")]
    assert [(u["code"], u["order_id"], u["customer_email"]) for u in before["/usages"]["data"]] == [("SPRING", "order-7", "a@example.com")]
    assert before["codes.csv"].splitlines()[0] == "code,uses,max_uses,consume_unit,user" and "SPRING,2,3,per_cart," in before["codes.csv"]
    snapshot = client.get(SNAPSHOT).json()
    assert client.post("/__codestand/moltin/tenants/store-1/reset", headers={"X-Codestand": "1"}).status_code == 204
    assert client.get(one).status_code == 404
    restored = client.put(SNAPSHOT, json=snapshot)
    assert restored.status_code == 204, restored.text
    assert answers(client, one, export) == before
    assert client.get(SNAPSHOT).json() == snapshot


def test_a_snapshot_without_history_restores_the_promotion_as_its_one_version(store_with_records):
    client, one, _ = store_with_records
    snapshot = client.get(SNAPSHOT).json()
    for promotion in snapshot["promotions"]:
        for records in ("history", "jobs", "usages"):
            del promotion[records]
    assert client.put(SNAPSHOT, json=snapshot).status_code == 204
    promotion = client.get(one).json()["data"]
    assert client.get(f"{one}/history").json()["data"] == [promotion]
    assert client.get(f"{one}/jobs").json()["data"] == []
    assert client.get(f"{one}/usages").json()["data"] == []


def _job(status: str, **fields) -> dict:
    return {"id": JOB_ID, "job_type": "code_export", "status": status, "created_at": "2026-03-01T12:00:00.000Z",
            "updated_at": "2026-03-01T12:00:00.000Z", **fields}  # fmt: skip


def _bad(field: str, reason: str) -> dict:
    return {"status": 400, "title": "Bad snapshot", "detail": f"The snapshot cannot be restored: {field}: {reason}", "source": field}


@pytest.mark.parametrize(
    ("jobs", "error"),
    [
        (
            [_job("pending"), _job("pending", id="1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")],
            _bad("promotions[0].jobs[1].status", "a promotion has one job pending or processing at a time"),
        ),
        (
            [_job("completed", file="code\n"), _job("completed", file="code\n")],
            _bad("promotions[0].jobs[1].id", f"job {JOB_ID} appears twice"),
        ),
        (
            [_job("processing")],
            _bad("promotions[0].jobs[0]", "a processing job holds its work (a code_generate job its result, a code_export job its file)"),
        ),
        (
            [_job("completed", job_type="code_generate", parameters={"code_length": 20}, result={"generated": 1})],
            _bad("promotions[0].jobs[0].parameters.code_length", "code_length must be at most 16"),
        ),
    ],
)
def test_jobs_the_store_could_not_keep_are_refused_and_nothing_changes(store_with_records, jobs, error):
    client, _, _ = store_with_records
    before = client.get(SNAPSHOT).json()
    bad = copy.deepcopy(before)
    bad["promotions"][0]["jobs"] = jobs
    response = client.put(SNAPSHOT, json=bad)
    assert (response.status_code, response.json()) == (400, {"errors": [error]})
    assert client.get(SNAPSHOT).json() == before


def test_a_usage_id_twice_is_refused(store_with_records):
    client, _, _ = store_with_records
    before = client.get(SNAPSHOT).json()
    bad = copy.deepcopy(before)
    usage = bad["promotions"][0]["usages"][0]
    bad["promotions"][0]["usages"].append(usage)
    response = client.put(SNAPSHOT, json=bad)
    assert (response.status_code, response.json()) == (400, {"errors": [_bad("promotions[0].usages[1].id", f"usage {usage['id']} appears twice")]})
    assert client.get(SNAPSHOT).json() == before


def test_a_history_version_the_create_route_would_refuse_is_named(store_with_records):
    client, _, _ = store_with_records
    before = client.get(SNAPSHOT).json()
    bad = copy.deepcopy(before)
    bad["promotions"][0]["history"][0]["name"] = ""
    response = client.put(SNAPSHOT, json=bad)
    assert response.status_code == 400
    assert [e["source"] for e in response.json()["errors"]] == ["promotions[0].history[0].name"]
    assert client.get(SNAPSHOT).json() == before
