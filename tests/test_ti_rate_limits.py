"""Thought Industries' rate limits (vendor page "Rate limits"): the quota headers on every
response, counted for real; 429 with `Retry-After` over the limit when enforced; plans and the
stricter `GET events` category. In process with a frozen clock for exact figures, and against a
real server (`tests/live.py`)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from codestand.settings import Settings
from tests.conftest import TI_KEY
from tests.live import Server

PING = "/incoming/v2/ping"
FEED = "/incoming/v2/events/redemptionCodeRedeem"
LIMITS = f"/__codestand/tenants/{TI_KEY}/rate-limits"
NOW = datetime(2030, 3, 1, 12, 0, 30, tzinfo=timezone.utc)
RESET = str(int(datetime(2030, 3, 1, 12, 1, tzinfo=timezone.utc).timestamp()))  # the next whole minute


def limited(retry_after: int) -> dict:
    return {
        "error": "rate_limit_exceeded",
        "message": f"Request rate limit reached. Retry after {retry_after} seconds.",
        "retryAfter": retry_after,
    }


def quota(response) -> tuple[str, str, str]:
    h = response.headers
    return h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-reset"]


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


def test_every_response_carries_the_quota_counted_per_key(ti, client, clock):
    assert quota(ti.get(PING)) == ("120", "119", RESET)
    assert quota(ti.get(PING)) == ("120", "118", RESET)
    # Errors too: a 404, a 400 and a 401 (no key: counted by the client's address).
    assert quota(ti.get("/incoming/v2/redemptionCodes/nope")) == ("120", "117", RESET)
    assert quota(ti.get("/incoming/v2/redemptionCodes?sort=x")) == ("120", "116", RESET)
    anonymous = client.get(PING, headers={"Authorization": ""})
    assert (anonymous.status_code, quota(anonymous)) == (401, ("120", "119", RESET))
    # Another key has its own window.
    assert quota(client.get(PING, headers={"Authorization": "Bearer other-key"})) == ("120", "119", RESET)
    # The event feed reports its own, stricter category (100 a minute), counted in both.
    assert quota(ti.get(FEED)) == ("100", "99", RESET)
    assert quota(ti.get(PING)) == ("120", "114", RESET)
    # A new minute, a new window.
    clock.advance(timedelta(seconds=30))
    assert quota(ti.get(PING)) == ("120", "119", str(int(RESET) + 60))
    # Not the control plane, which is no vendor route.
    assert "x-ratelimit-limit" not in ti.get(LIMITS).headers


def test_by_default_limits_never_refuse(ti, clock):
    for _ in range(150):
        response = ti.get(PING)
    assert (response.status_code, quota(response)) == (200, ("120", "0", RESET))


def test_enforced_the_burst_is_let_through_then_429_until_the_reset(ti, clock):
    assert ti.put(LIMITS, json={"enforced": True}).json() == {"enforced": True, "plan": "standard"}
    for n in range(140):  # 120 a minute and a burst of 20
        response = ti.get(PING)
        assert response.status_code == 200, n
    assert quota(response) == ("120", "0", RESET)
    response = ti.get(PING)
    assert (response.status_code, response.json()) == (429, limited(30))
    assert response.headers["retry-after"] == "30"
    assert response.headers["content-type"] == "application/json"
    assert quota(response) == ("120", "0", RESET)
    # Refused requests are not counted; writes are refused as well.
    assert ti.post("/incoming/v2/redemptionCodes", json={}).status_code == 429
    clock.advance(timedelta(seconds=29))
    assert ti.get(PING).json() == limited(1)
    clock.advance(timedelta(seconds=1))
    response = ti.get(PING)
    assert (response.status_code, quota(response)) == (200, ("120", "119", str(int(RESET) + 60)))


def test_the_event_feed_is_refused_after_100_a_minute(ti, clock):
    ti.put(LIMITS, json={"enforced": True})
    for _ in range(100):
        assert ti.get(FEED).status_code == 200
    response = ti.get(FEED)
    assert (response.status_code, response.json(), quota(response)) == (429, limited(30), ("100", "0", RESET))
    # Other routes still have the plan's quota left.
    assert quota(ti.get(PING)) == ("120", "19", RESET)


def test_enterprise_plan(ti, clock):
    assert ti.put(LIMITS, json={"enforced": True, "plan": "enterprise"}).json() == {"enforced": True, "plan": "enterprise"}
    for _ in range(700):
        response = ti.get(PING)
    assert (response.status_code, quota(response)) == (200, ("600", "0", RESET))
    assert ti.get(PING).status_code == 429
    assert ti.get(LIMITS).json() == {"enforced": True, "plan": "enterprise"}
    # A reset forgets the tenant's limits and the counts.
    assert ti.post(f"/__codestand/tenants/{TI_KEY}/reset", headers={"X-Codestand": "1"}).status_code == 204
    assert ti.get(LIMITS).json() == {"enforced": False, "plan": "standard"}


@pytest.mark.parametrize("settings", [Settings(access_log=False, rate_limits="vendor")])
def test_rate_limits_vendor_enforces_for_every_tenant_and_a_tenant_can_opt_out(ti, clock, settings):
    for _ in range(140):
        ti.get(PING)
    assert ti.get(PING).status_code == 429
    assert ti.put(LIMITS, json={"enforced": False}).json() == {"enforced": False, "plan": "standard"}
    assert ti.get(PING).status_code == 200


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"plan": "gold"}, "plan"),
        ({"enforced": "yes"}, "enforced"),
    ],
)
def test_bad_limit_settings_are_400(ti, body, errors):
    response = ti.put(LIMITS, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == errors


@pytest.mark.parametrize("body", [{}, {"enforce": True}])
def test_a_change_that_sets_nothing_is_400_and_changes_nothing(ti, body):
    ti.put(LIMITS, json={"enforced": True})
    response = ti.put(LIMITS, json=body)
    assert (response.status_code, response.json()) == (
        400, {"errors": [{"status": 400, "title": "Bad Request", "detail": "Say what to change: enforced, plan or both"}]}
    )
    assert ti.get(LIMITS).json() == {"enforced": True, "plan": "standard"}


def test_forced_429_by_prefer_carries_retry_after(ti, clock):
    response = ti.get(PING, headers={"Prefer": "code=429"})
    assert (response.status_code, response.json()) == (429, limited(60))
    assert response.headers["retry-after"] == "60"
    assert response.headers["preference-applied"] == "code=429"
    assert quota(response) == ("120", "119", RESET)
    response = ti.get(PING, headers={"Prefer": "code=503"})
    assert (response.status_code, response.json(), response.headers["retry-after"]) == (
        503, {"errors": ["Service unavailable."]}, "30"
    )


def test_a_real_server_counts_down_refuses_and_lets_a_patient_client_through():
    with tempfile.TemporaryDirectory() as folder, Server(Path(folder) / "serve.log", "--rate-limits", "vendor") as server:
        server.start()
        with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer ti_live_a1b2c3d4e5f6g7h8i9j0"}) as http:
            # Start just after a window resets, by the stand-in's clock, so 141 requests fit in one.
            now = datetime.fromisoformat(http.get("/__codestand/clock").json()["now"].replace("Z", "+00:00"))
            start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            assert http.put("/__codestand/clock", json={"now": start.isoformat(), "frozen": True}).status_code == 200
            remaining = [int(http.get(PING).headers["x-ratelimit-remaining"]) for _ in range(140)]
            assert remaining == [max(0, 119 - n) for n in range(140)]
            refused = http.get(PING)
            assert (refused.status_code, refused.json()) == (429, limited(60))
            wait = int(refused.headers["retry-after"])
            assert refused.headers["x-ratelimit-reset"] == str(int(start.timestamp()) + 60)
            # The client waits Retry-After, by the stand-in's clock.
            assert http.post("/__codestand/clock/advance", json={"seconds": wait}).status_code == 200
            again = http.get(PING)
            assert (again.status_code, again.json(), again.headers["x-ratelimit-remaining"]) == (200, {"valid": True}, "119")
