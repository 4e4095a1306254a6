"""Moltin promotion jobs: code_generate and code_export, run by the stand-in's clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_promotions import KEY, VENDOR_EXAMPLE, error

NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
STAMP = "2024-03-01T12:00:00.000Z"
LATER = "2024-03-01T12:00:01.000Z"
LIVE = {**VENDOR_EXAMPLE, "start": "2024-01-01", "end": "2030-01-01"}
GENERATE = {"type": "promotion_job", "job_type": "code_generate", "name": "Summer Sale Job",
            "parameters": {"number_of_codes": 3, "max_uses_per_code": 1, "consume_unit": "per_cart", "code_prefix": "Summer-", "code_length": 10}}  # fmt: skip


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


@pytest.fixture
def promotion(moltin, clock) -> dict:
    response = moltin.post("/v2/promotions", json={"data": LIVE})
    assert response.status_code == 201
    return response.json()["data"]  # the jobs hold is the store's, and the store is the test's


def job_json(promotion, job_id, status, *, updated=STAMP, result=None, job=GENERATE, error_text=None) -> dict:
    body = {"type": "promotion_job", "id": job_id, "promotion_id": promotion["id"], "job_type": job["job_type"], "name": job["name"]}
    if job["job_type"] == "code_generate":
        body["parameters"] = job["parameters"]
    body["status"] = status
    if result is not None:
        body["result"] = result
    if error_text is not None:
        body["error"] = error_text
    body["meta"] = {"timestamps": {"created_at": STAMP, "updated_at": updated}}
    return body


def test_code_generate_runs_by_the_clock(moltin, clock, promotion):
    path = f"/v2/promotions/{promotion['id']}/jobs"
    response = moltin.post(path, json=GENERATE)  # bare, as the vendor's document sends it
    assert response.status_code == 201
    job = response.json()["data"]
    assert job == job_json(promotion, job["id"], "pending")
    # Started at once (nothing before it in the queue): the codes are there, the job processing.
    listed = moltin.get(path).json()
    assert listed["data"] == [job_json(promotion, job["id"], "processing", result={"generated": 3})]
    assert listed["meta"] == {"page": {"limit": 25, "offset": 0, "current": 1, "total": 1}, "results": {"total": 1}}
    codes = moltin.get(f"/v2/promotions/{promotion['id']}/codes").json()["data"]
    assert len(codes) == 3
    for code in codes:
        assert re.fullmatch(r"Summer-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{2}", code.pop("code"))
        assert code == {"uses": 1, "max_uses": 1, "consume_unit": "per_cart", "created_by": KEY, "meta": {"timestamps": {"created_at": STAMP}}}
    clock.advance(timedelta(seconds=1))
    assert moltin.get(path).json()["data"] == [job_json(promotion, job["id"], "completed", updated=LATER, result={"generated": 3})]


def test_code_export_and_its_file(moltin, clock, promotion):
    moltin.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": [{"code": "A1", "uses": 2}, {"code": "B2", "user": ["x", "y"]}]}})
    export = {"type": "promotion_job", "job_type": "code_export", "name": "Export Codes Job"}
    job = moltin.post(f"/v2/promotions/{promotion['id']}/jobs", json={"data": export}).json()["data"]  # wrapped, as the SDKs send it
    assert job == job_json(promotion, job["id"], "pending", job=export)
    file = f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/file"
    response = moltin.get(file)  # still processing
    assert (response.status_code, response.json()) == (404, {"errors": [error(404, "Not Found", "This job has no exported file")]})
    clock.advance(timedelta(seconds=1))
    response = moltin.get(file)
    href = f"http://testserver/v2/promotions/{promotion['id']}/jobs/{job['id']}/codes.csv"
    assert (response.status_code, response.json()) == (200, {"href": href})
    response = moltin.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == "code,uses,max_uses,consume_unit,user\nA1,2,2,per_cart,\nB2,,,per_cart,x|y\n"


def test_a_second_job_waits_for_none_it_is_refused(moltin, clock, promotion):
    path = f"/v2/promotions/{promotion['id']}/jobs"
    assert moltin.post(path, json=GENERATE).status_code == 201
    response = moltin.post(path, json=GENERATE)
    assert (response.status_code, response.json()) == (422, {"errors": [error(422, "Unprocessable Entity", "A job of this promotion is pending or processing; wait until it is completed or failed")]})


def test_held_jobs_stay_pending_and_can_be_cancelled(moltin, client, clock, promotion):
    assert client.put("/__codestand/moltin/tenants/store-1/promotion-jobs-hold", json={"hold": True}).json() == {"hold": True}
    path = f"/v2/promotions/{promotion['id']}/jobs"
    job = moltin.post(path, json=GENERATE).json()["data"]
    clock.advance(timedelta(seconds=5))
    assert moltin.get(path).json()["data"][0]["status"] == "pending"
    response = moltin.post(f"{path}/{job['id']}/cancel")
    assert (response.status_code, response.json()) == (200, {"data": job_json(promotion, job["id"], "cancelled", updated="2024-03-01T12:00:05.000Z", result={"generated": 0, "deleted": 0})})
    response = moltin.post(f"{path}/{job['id']}/cancel")
    assert (response.status_code, response.json()) == (422, {"errors": [error(422, "Unprocessable Entity", "Only a pending or processing job can be cancelled; this one is cancelled")]})


def test_cancelling_a_processing_generate_deletes_its_codes(moltin, clock, promotion):
    path = f"/v2/promotions/{promotion['id']}/jobs"
    job = moltin.post(path, json=GENERATE).json()["data"]
    assert moltin.get(path).json()["data"][0]["status"] == "processing"
    response = moltin.post(f"{path}/{job['id']}/cancel")
    assert response.json()["data"]["result"] == {"generated": 3, "deleted": 3}
    assert moltin.get(f"/v2/promotions/{promotion['id']}/codes").json()["data"] == []


def test_over_the_quota_fails_when_processed(moltin, clock, promotion):
    codes = [{"code": f"C{n}"} for n in range(999)]
    moltin.post(f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": codes}})
    path = f"/v2/promotions/{promotion['id']}/jobs"
    job = moltin.post(path, json=GENERATE).json()["data"]
    assert moltin.get(path).json()["data"] == [job_json(promotion, job["id"], "failed", error_text="codes limit exceeded")]


@pytest.mark.parametrize(
    ("query", "kinds"),
    [("eq(job_type,code_export)", ["code_export"]), ("eq(status,completed)", ["code_generate"]), ("eq(status, pending)", [])],
)
def test_jobs_filters(moltin, clock, promotion, query, kinds):
    path = f"/v2/promotions/{promotion['id']}/jobs"
    moltin.post(path, json=GENERATE)
    clock.advance(timedelta(seconds=1))
    moltin.get(path)
    moltin.post(path, json={"job_type": "code_export", "name": "x"})
    body = moltin.get(path, params={"filter": query}).json()
    assert [j["job_type"] for j in body["data"]] == kinds


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"type": "promotion_job"}, [error(400, "required", "job_type is required", None)]),
        ({"data": {"job_type": "code_delete"}}, [error(400, "enum", "job_type must be one of: code_generate, code_export", "data.job_type")]),
        ({**GENERATE, "parameters": {"code_length": 7}}, [error(400, "minimum", "code_length must be at least 8", "parameters.code_length")]),
        ({**GENERATE, "parameters": {"number_of_codes": 1001}}, [error(400, "maximum", "number_of_codes must be at most 1000", "parameters.number_of_codes")]),
        ({**GENERATE, "name": "n" * 51}, [error(400, "maxLength", "name must be at most 50 characters long", "name")]),
    ],
    ids=["no-job-type", "unknown-job-type", "code-too-short", "too-many-codes", "name-too-long"],
)
def test_job_refusals(moltin, promotion, body, errors):
    response = moltin.post(f"/v2/promotions/{promotion['id']}/jobs", json=body)
    assert (response.status_code, response.json()) == (400, {"errors": errors})


def test_unknown_job_and_promotion(moltin, promotion):
    response = moltin.post(f"/v2/promotions/{promotion['id']}/jobs/nope/cancel")
    assert (response.status_code, response.json()) == (404, {"errors": [error(404, "Not Found", "job not found")]})
    response = moltin.get("/v2/promotions/nope/jobs")
    assert (response.status_code, response.json()) == (404, {"errors": [error(404, "Not Found", "promotion not found")]})
