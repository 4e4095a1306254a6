"""Both official JavaScript SDKs (@moltin/sdk 36, @elasticpath/js-sdk 35, pinned in tests/sdk)
run every Promotions method they have against a real server: Create, All (paging, Filter), Get,
Update, AddCodes, Codes (and with Filter), Attributes, History, AddCodesJob, PromotionJobs (and
with Filter), GetCodeExportFile, DeleteCode, DeleteCodes, Delete. Neither SDK has a cancel method.
"""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from codestand.moltin.promotions import actor
from tests.test_moltin_sdk import SDK_DIR, server, sdk  # noqa: F401  (fixtures)

FLOW = SDK_DIR / "promotions_flow.mjs"
SDKS = ["@moltin/sdk", "@elasticpath/js-sdk"]


@pytest.fixture(scope="module")
def both(sdk):  # noqa: F811
    """Both SDKs installed (the first fixture installs from the lock file when @moltin/sdk is missing)."""
    if not (SDK_DIR / "node_modules/@elasticpath/js-sdk/package.json").exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=SDK_DIR, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"npm ci in {SDK_DIR} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return SDK_DIR


@pytest.mark.parametrize("name", SDKS)
def test_every_promotions_method(both, server, name):  # noqa: F811
    client_id = f"sdk-{name.split('/')[0][1:]}"
    done = subprocess.run(["node", str(FLOW), name, server, client_id, "secret"], cwd=both, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)["steps"]
    calls = {step: [(e["method"], e["path"], e["status"]) for e in entry["exchanges"]] for step, entry in steps.items()}
    results = {step: entry.get("result", entry.get("error")) for step, entry in steps.items()}
    promotion = results["create"]["data"]
    pid, other = promotion["id"], results["create_second"]["data"]["id"]
    job = results["add_codes_job"]["data"]
    assert calls == {
        "authenticate": [("POST", "/oauth/access_token", 200)],
        "create": [("POST", "/v2/promotions", 201)],
        "create_second": [("POST", "/v2/promotions", 201)],
        "all_page": [("GET", "/v2/promotions?page[limit]=1&page[offset]=1", 200)],
        "get": [("GET", f"/v2/promotions/{pid}", 200)],
        "update": [("PUT", f"/v2/promotions/{pid}", 200)],
        "add_codes": [("POST", f"/v2/promotions/{pid}/codes", 201)],
        "all_filtered": [("GET", "/v2/promotions?filter=eq(code,ZXY_CBA)", 200)],
        "codes": [("GET", f"/v2/promotions/{pid}/codes", 200)],
        "codes_filtered": [("GET", f"/v2/promotions/{pid}/codes?filter=eq(code,ABC_XYZ)", 200)],
        "attributes": [("GET", "/v2/promotions/attributes", 200)],
        "history": [("GET", f"/v2/promotions/{pid}/history", 200)],
        "add_codes_job": [("POST", f"/v2/promotions/{pid}/jobs", 201)],
        "promotion_jobs": [("GET", f"/v2/promotions/{pid}/jobs", 200)],
        "promotion_jobs_filtered": [("GET", f"/v2/promotions/{pid}/jobs?filter=eq(job_type,code_export):eq(status,completed)", 200)],
        "code_export_file": [("GET", f"/v2/promotions/{pid}/jobs/{job['id']}/file", 200)],
        "delete_code": [("DELETE", f"/v2/promotions/{pid}/codes/ZXY_CBA", 204)],
        "delete_codes": [("DELETE", f"/v2/promotions/{pid}/codes", 204)],
        "codes_after_delete": [("GET", f"/v2/promotions/{pid}/codes", 200)],
        "delete": [("DELETE", f"/v2/promotions/{pid}", 204)],
        "get_deleted": [("GET", f"/v2/promotions/{pid}", 404)],
    }
    key = actor(client_id)
    assert (promotion["promotion_type"], promotion["automatic"], promotion["created_by"]) == ("bundle_gift", False, key)
    assert promotion["schema"] == {"requirements": [{"targets": ["sku-1"], "quantity": 1}], "gifts": ["gift-1"], "auto_add_free_gift": False}
    assert promotion["meta"] == {"timestamps": {"created_at": promotion["created_at"], "updated_at": promotion["updated_at"]}}
    assert [p["id"] for p in results["all_page"]["data"]] == [other]
    assert results["all_page"]["meta"] == {"page": {"limit": 1, "offset": 1, "current": 2, "total": 2}, "results": {"total": 2}}
    assert results["get"] == {"data": promotion}
    assert results["update"]["data"]["name"] == "Gift 2"
    assert [p["id"] for p in results["all_filtered"]["data"]] == [pid]
    codes = results["codes"]["data"]
    assert [{k: v for k, v in c.items() if k != "meta"} for c in codes] == [
        {"code": "ZXY_CBA", "consume_unit": "per_cart", "created_by": key},
        {"code": "ABC_XYZ", "uses": 2, "max_uses": 2, "user": ["cust-1", "cust-2"], "consume_unit": "per_cart", "created_by": key},
    ]
    assert results["codes_filtered"]["data"] == codes[1:]
    assert results["attributes"]["meta"] == {"entity": "promotion", "version": "1.0.0"}
    assert [p["name"] for p in results["history"]["data"]] == ["Gift", "Gift 2"]
    assert (job["job_type"], job["status"], job["name"]) == ("code_export", "pending", "Export")
    assert [j["status"] for j in results["promotion_jobs"]["data"]] == ["processing"]
    assert [j["status"] for j in results["promotion_jobs_filtered"]["data"]] == ["completed"]
    href = results["code_export_file"]["href"]
    assert href == f"http://{server}/v2/promotions/{pid}/jobs/{job['id']}/codes.csv"
    # The SDKs resolve an empty 2xx body as the string "{}".
    assert (results["delete_code"], results["delete_codes"], results["delete"]) == ("{}", "{}", "{}")
    assert results["codes_after_delete"]["data"] == []
    assert results["get_deleted"] == {"errors": [{"status": 404, "title": "Not Found", "detail": "promotion not found"}]}


def test_the_export_file_the_href_names(server):  # noqa: F811
    # What a client does with GetCodeExportFile's href: fetch it with its token.
    base = f"http://{server}"
    token = httpx.post(f"{base}/oauth/access_token", data={"grant_type": "client_credentials", "client_id": "csv", "client_secret": "s"}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"data": {"type": "promotion", "name": "n", "description": "d", "enabled": True, "promotion_type": "fixed_discount",
                     "schema": {"currencies": [{"currency": "USD", "amount": 1}]}, "start": "2020-01-01", "end": "2099-01-01"}}  # fmt: skip
    pid = httpx.post(f"{base}/v2/promotions", json=body, headers=auth).json()["data"]["id"]
    httpx.post(f"{base}/v2/promotions/{pid}/codes", json={"data": {"type": "promotion_codes", "codes": [{"code": "CSV-1"}]}}, headers=auth)
    job = httpx.post(f"{base}/v2/promotions/{pid}/jobs", json={"job_type": "code_export"}, headers=auth).json()["data"]
    import time

    time.sleep(1.2)
    href = httpx.get(f"{base}/v2/promotions/{pid}/jobs/{job['id']}/file", headers=auth).json()["href"]
    response = httpx.get(href, headers=auth)
    assert (response.status_code, response.text) == (200, "code,uses,max_uses,consume_unit,user\nCSV-1,,,per_cart,\n")


@pytest.fixture(scope="module")
def limited_server():
    """`codestand serve --rate-limits vendor`."""
    from tests.live import serving

    with serving("--quiet", "--rate-limits", "vendor") as base:
        yield base.removeprefix("http://")


@pytest.mark.parametrize("name", SDKS)
def test_the_sdk_retry_gets_through_the_rate_limit(both, limited_server, name):
    done = subprocess.run(
        ["node", str(SDK_DIR / "retry_flow.mjs"), name, limited_server, f"retry-{name.split('/')[0][1:]}", "secret"],
        cwd=both, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # 1 token + 40 calls; at most 25 a second are answered, the rest retried in later seconds.
    assert report["resolved"] == 40
    assert report["statuses"].count(429) >= 15
    assert report["statuses"].count(200) == 41
