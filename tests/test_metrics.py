"""`/__codestand/metrics` (Prometheus' text format) and `--log-format json`."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import token_for
from tests.live import LASTING_PROMOTION, Server, ti_group, ti_headers


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_by_operation_and_status_and_the_codes_stored(ti):
    assert ti.post("/incoming/v2/redemptionCodes", json=ti_group("metrics", 25, 8)).status_code == 201
    assert ti.get("/incoming/v2/redemptionCodes/nope").status_code == 404
    assert ti.get("/incoming/v2/nowhere").status_code == 404
    response = ti.get("/__codestand/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST  # the text format this prometheus-client writes
    samples = _samples(response.text)
    created = ("codestand_requests_total", (("operation", "create_group"), ("status", "201"), ("vendor", "thoughtindustries")))
    missing = ("codestand_requests_total", (("operation", "get_group"), ("status", "404"), ("vendor", "thoughtindustries")))
    stray = ("codestand_requests_total", (("operation", "unknown"), ("status", "404"), ("vendor", "thoughtindustries")))
    assert (samples[created], samples[missing], samples[stray]) == (1, 1, 1)
    latency = ("codestand_request_duration_seconds_count", (("operation", "create_group"), ("vendor", "thoughtindustries")))
    assert samples[latency] == 1
    assert samples[("codestand_stored_codes", (("vendor", "thoughtindustries"),))] == 25
    assert samples[("codestand_stored_codes", (("vendor", "moltin"),))] == 0
    assert samples[("codestand_storage_up", ())] == 1



def test_metrics_count_the_promotion_jobs_waiting_and_running(client):
    """A held store's jobs wait `pending`; let go and read, the first runs (`processing`) and the
    next waits for it (one job at a time a promotion is refused, so two promotions)."""
    headers = {"Authorization": f"Bearer {token_for(client, 'jobs-store')}"}
    promotions = [client.post("/v2/promotions", headers=headers, json=LASTING_PROMOTION).json()["data"] for _ in range(2)]
    assert client.put("/__codestand/moltin/tenants/jobs-store/promotion-jobs-hold", json={"hold": True}).status_code == 200
    for promotion in promotions:
        job = {"type": "promotion_job", "job_type": "code_export"}
        assert client.post(f"/v2/promotions/{promotion['id']}/jobs", headers=headers, json=job).status_code == 201

    def unfinished() -> dict[str, float]:
        samples = _samples(client.get("/__codestand/metrics").text)
        return {status: samples[("codestand_promotion_jobs_unfinished", (("status", status),))] for status in ("pending", "processing")}

    assert unfinished() == {"pending": 2, "processing": 0}
    client.app.codestand.clock.freeze(datetime.now(timezone.utc))
    assert client.put("/__codestand/moltin/tenants/jobs-store/promotion-jobs-hold", json={"hold": False}).status_code == 200
    assert client.get(f"/v2/promotions/{promotions[0]['id']}/jobs", headers=headers).status_code == 200
    assert unfinished() == {"pending": 1, "processing": 1}


def test_json_logs_are_one_object_a_request_with_the_key_redacted(tmp_path):
    with Server(tmp_path / "server.log", "--log-format", "json") as server:
        with server.client() as http:
            assert http.get("/incoming/v2/ping", headers=ti_headers("json-secret-key")).status_code == 200
            assert http.get("/__codestand/tenants/json-secret-key/catalog").status_code == 200
        lines = [json.loads(line) for line in server.log().splitlines()]
    # (The first, GET /openapi.json, is the test helper asking whether the server is up.)
    requests = [line for line in lines if line["logger"] == "codestand.access" and line["path"] != "/openapi.json"]
    assert [(r["method"], r["status"], r["vendor"], r["operation"]) for r in requests] == [
        ("GET", 200, "thoughtindustries", "ping"),
        ("GET", 200, "control", "get_catalog"),
    ]
    assert requests[0]["path"] == "/incoming/v2/ping"
    assert requests[1]["path"].startswith("/__codestand/tenants/sha256:")
    assert set(requests[0]) == {"time", "level", "logger", "method", "path", "status", "duration_ms", "vendor", "operation"}
    assert "json-secret-key" not in server.log()
    assert any(line["logger"] == "codestand" and line["message"].startswith("serving on http://") for line in lines)
