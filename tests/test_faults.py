"""Fault rules: `/__codestand/faults` and what they do to vendor requests."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from codestand.cli import parser, settings_from
from codestand.control.faults import Faults
from tests.conftest import TI_KEY, token_for
from tests.live import serving
from tests.samples import PROMOTION

PING = "/incoming/v2/ping"
TI = {"Authorization": f"Bearer {TI_KEY}"}


def add(client, **rule) -> dict:
    response = client.post("/__codestand/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def test_adding_a_rule_answers_it_with_an_id(client):
    response = client.post("/__codestand/faults", json={"method": "post", "path": "/v2/promotions/*/codes", "status": 503})
    assert response.status_code == 201
    assert response.json() == {
        "id": "1",
        "method": "POST",
        "path": "/v2/promotions/*/codes",
        "status": 503,
        "latency_ms": None,
        "drop": False,
        "probability": 1.0,
        "count": None,
        "applied": 0,
    }
    ranged = add(client, path="/incoming/**", latency_ms={"min": 10, "max": 20}, probability=0.25, count=2)
    assert (ranged["id"], ranged["latency_ms"], ranged["probability"], ranged["count"]) == ("2", {"min": 10, "max": 20}, 0.25, 2)


def test_rules_are_listed_removed_and_cleared(client):
    first, second, third = (add(client, path=f"/v2/{n}", status=500) for n in range(3))
    assert [r["id"] for r in client.get("/__codestand/faults").json()["faults"]] == ["1", "2", "3"]

    response = client.delete(f"/__codestand/faults/{second['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert client.get("/__codestand/faults").json()["faults"] == [first, third]

    response = client.delete("/__codestand/faults")
    assert (response.status_code, response.content) == (204, b"")
    assert client.get("/__codestand/faults").json() == {"faults": []}


def test_removing_an_unknown_rule_is_a_404(client):
    response = client.delete("/__codestand/faults/7")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"status": 404, "title": "Not Found", "detail": "No fault rule with this id"}]}


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"path": "/v2/**"}, {"detail": "A fault needs a status, latency_ms or drop: true"}),
        ({"path": "/v2/**", "drop": False}, {"detail": "A fault needs a status, latency_ms or drop: true"}),
        ({"path": "/v2/**", "drop": True, "status": 503}, {"detail": "A fault either drops the connection or answers a status, not both"}),
        (
            {"path": "/v2/**", "latency_ms": {"min": 50, "max": 10}},
            {"detail": "latency_ms.min must not be above latency_ms.max", "source": "latency_ms"},
        ),
        (
            {"path": "/v2/**", "latency_ms": "slow"},
            {"detail": "latency_ms must be milliseconds or {min, max} in milliseconds", "source": "latency_ms"},
        ),
        ({"path": "/v2/**", "status": 418}, {"title": "enum", "detail": "status must be one of: 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504", "source": "status"}),
        ({"path": "/v2/**", "status": 503, "probability": 2}, {"title": "maximum", "detail": "probability must be at most 1", "source": "probability"}),
        ({"path": "/v2/**", "status": 503, "count": 0}, {"title": "minimum", "detail": "count must be at least 1", "source": "count"}),
        ({"path": "v2/**", "status": 503}, {"title": "pattern", "detail": "path is not in the expected form", "source": "path"}),
        ({"status": 503}, {"title": "required", "detail": "path is required", "source": "path"}),
    ],
)
def test_bad_rules_are_refused(client, rule, error):
    response = client.post("/__codestand/faults", json=rule)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"status": 400, "title": "Bad Request", **error}]}
    assert client.get("/__codestand/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"errors": ["Service unavailable."]}),
        # The rate-limits page's own 429 body; a forced one names a whole window.
        (429, {"error": "rate_limit_exceeded", "message": "Request rate limit reached. Retry after 60 seconds.", "retryAfter": 60}),
        (500, {"errors": ["Internal server error."]}),
        (404, {"errors": ["Not found."]}),
        (422, {"errors": ["The request breaks a rule."]}),
        (413, {"errors": ["Request body is larger than 1048576 bytes."]}),
    ],
)
def test_a_forced_status_comes_in_thought_industries_shape(client, status, body):
    add(client, path=PING, status=status)
    response = client.get(PING, headers=TI)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body
    # The status-codes and rate-limits pages: a 429 and a 503 carry Retry-After.
    assert response.headers.get("retry-after") == {429: "60", 503: "30"}.get(status)
    # And every response the quota headers (vendor page "Rate limits").
    assert response.headers["x-ratelimit-limit"] == "120"


def test_a_forced_401_has_thought_industries_empty_body(client):
    add(client, path=PING, status=401)
    response = client.get(PING, headers=TI)
    assert (response.status_code, response.content) == (401, b"")


def test_a_forced_status_comes_in_moltin_shape(moltin):
    add(moltin, method="GET", path="/v2/promotions", status=503)
    response = moltin.get("/v2/promotions")
    assert response.status_code == 503
    assert response.json() == {
        "errors": [{"status": 503, "title": "Service Unavailable", "detail": "The service is temporarily unavailable"}]
    }


def test_a_forced_moltin_500_carries_a_request_id(moltin):
    add(moltin, path="/v2/promotions", status=500)
    [error] = moltin.get("/v2/promotions").json()["errors"]
    request_id = error.pop("request_id")
    assert len(request_id) == 36
    assert error == {
        "status": 500,
        "title": "Internal Server Error",
        "detail": "There was an internal server error, you can report with your request id.",
    }


def test_a_forced_405_names_the_allowed_methods(moltin):
    add(moltin, path="/v2/promotions", status=405)
    response = moltin.get("/v2/promotions")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")


def test_faults_act_before_authentication(client):
    add(client, path=PING, status=503)
    assert client.get(PING).status_code == 503


def test_a_faulted_request_stores_nothing(moltin):
    add(moltin, method="POST", path="/v2/promotions", status=503)
    assert moltin.post("/v2/promotions", json=PROMOTION).status_code == 503
    assert moltin.get("/v2/promotions").json()["data"] == []


def test_rules_match_by_method_and_glob(moltin):
    promotion = moltin.post("/v2/promotions", json=PROMOTION).json()["data"]["id"]
    add(moltin, method="POST", path="/v2/promotions/*/codes", status=422)
    codes = {"data": {"type": "promotion_codes", "codes": [{"code": "ABC"}]}}

    assert moltin.get(f"/v2/promotions/{promotion}/codes").status_code == 200
    assert moltin.get(f"/v2/promotions/{promotion}").status_code == 200
    assert moltin.delete(f"/v2/promotions/{promotion}/codes/ABC").status_code == 404
    response = moltin.post(f"/v2/promotions/{promotion}/codes", json=codes)
    assert response.status_code == 422
    assert response.json() == {"errors": [{"status": 422, "title": "Unprocessable Entity", "detail": "The request breaks a rule"}]}


def test_the_control_plane_and_the_contract_are_never_faulted(client):
    add(client, path="/**", status=503)
    add(client, path="/__codestand/**", drop=True)
    assert client.get("/__codestand/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get(PING, headers=TI).status_code == 503


def test_probability_zero_never_applies(client):
    add(client, path=PING, status=503, probability=0)
    assert {client.get(PING, headers=TI).status_code for _ in range(30)} == {200}
    assert client.get("/__codestand/faults").json()["faults"][0]["applied"] == 0


def test_probability_one_always_applies(client):
    add(client, path=PING, status=503, probability=1)
    assert {client.get(PING, headers=TI).status_code for _ in range(30)} == {503}
    assert client.get("/__codestand/faults").json()["faults"][0]["applied"] == 30


def test_seeded_draws_repeat(app, client):
    app.codestand.faults.seed(7)
    add(client, path=PING, status=503, probability=0.5)
    statuses = [client.get(PING, headers=TI).status_code for _ in range(20)]

    draws = random.Random(7)
    assert statuses == [503 if draws.random() < 0.5 else 200 for _ in range(20)]
    assert set(statuses) == {200, 503}


def test_the_fault_seed_setting_seeds_the_draws():
    first, second = Faults(seed=3), Faults(seed=3)
    for faults in (first, second):
        faults.add({"path": "/v2/**", "status": 503, "probability": 0.5, "latency_ms": {"min": 0, "max": 1000}})
    assert [first.pick("GET", "/v2/x") for _ in range(20)] == [second.pick("GET", "/v2/x") for _ in range(20)]
    assert settings_from(parser().parse_args(["serve", "--fault-seed", "3"])).fault_seed == 3


def test_a_rule_with_a_count_expires(client):
    rule = add(client, path=PING, status=503, count=2)
    assert [client.get(PING, headers=TI).status_code for _ in range(4)] == [503, 503, 200, 200]
    assert client.get("/__codestand/faults").json() == {"faults": []}
    assert client.delete(f"/__codestand/faults/{rule['id']}").status_code == 404


def test_the_first_matching_rule_applies(client):
    add(client, path=PING, status=503, count=1)
    add(client, path="/incoming/**", status=429)
    assert [client.get(PING, headers=TI).status_code for _ in range(2)] == [503, 429]


def test_latency_delays_the_answer(client):
    add(client, path=PING, latency_ms=200)
    started = time.perf_counter()
    response = client.get(PING, headers=TI)
    # Only a lower bound: these machines are noisy.
    assert time.perf_counter() - started >= 0.2
    assert (response.status_code, response.json()) == (200, {"valid": True})


def test_a_latency_range_delays_at_least_its_minimum(client):
    add(client, path=PING, latency_ms={"min": 100, "max": 150}, status=502)
    started = time.perf_counter()
    response = client.get(PING, headers=TI)
    assert time.perf_counter() - started >= 0.1
    assert (response.status_code, response.json()) == (502, {"errors": ["Bad gateway."]})


def test_a_slow_request_does_not_hold_up_others(app):
    async def scenario() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await client.post("/__codestand/faults", json={"path": PING, "latency_ms": 1000, "count": 1})
            started = time.perf_counter()

            async def timed(path: str) -> float:
                response = await client.get(path, headers=TI)
                assert response.status_code == 200
                return time.perf_counter() - started

            slow = asyncio.create_task(timed(PING))
            await asyncio.sleep(0.05)
            fast = await timed("/incoming/v2/redemptionCodes")
            return fast, await slow

    fast, slow = asyncio.run(scenario())
    assert slow >= 1.0
    assert fast < slow


def test_a_dropped_request_raises_in_an_in_process_client(client):
    add(client, path=PING, drop=True, count=1)
    with pytest.raises(ConnectionAbortedError):
        client.get(PING, headers=TI)
    assert client.get(PING, headers=TI).status_code == 200


def test_drop_closes_the_connection_without_an_answer_and_the_server_goes_on():
    with serving("--quiet") as base:
        httpx.post(f"{base}/__codestand/faults", json={"method": "GET", "path": PING, "drop": True, "count": 1}).raise_for_status()
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            httpx.get(f"{base}{PING}", headers=TI)

        response = httpx.get(f"{base}{PING}", headers=TI)
        assert (response.status_code, response.json()) == (200, {"valid": True})
        entries = httpx.get(f"{base}/__codestand/journal").json()["entries"]
        assert [(e["path"], e["status"]) for e in entries] == [(PING, 200), (PING, None)]


def test_a_token_request_can_be_faulted_too(client):
    add(client, path="/oauth/access_token", status=503, count=1)
    response = client.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": "store-1"})
    assert response.status_code == 503
    assert response.json()["errors"][0]["title"] == "Service Unavailable"
    assert token_for(client, "store-1", grant="implicit")
