"""CORS: pages using the vendors' JavaScript SDKs may call the vendor routes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.cli import parser, settings_from
from codestand.settings import Settings

PAGE = "http://localhost:3000"
# What the Moltin SDK sends on a promotion request from a browser.
SDK_HEADERS = "authorization, content-type, x-moltin-sdk-language, x-moltin-sdk-version, x-moltin-application"


def preflight(client: TestClient, path: str, origin: str = PAGE, method: str = "POST"):
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": SDK_HEADERS},
    )


@pytest.mark.parametrize("path", ["/v2/promotions", "/v2/promotions/p-1/codes", "/oauth/access_token", "/incoming/v2/redemptionCodes"])
def test_a_preflight_is_answered_for_any_origin(client, path):
    response = preflight(client, path)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-headers"] == SDK_HEADERS
    assert "POST" in response.headers["access-control-allow-methods"]


def test_answers_and_errors_carry_the_header(ti, client):
    assert ti.get("/incoming/v2/ping", headers={"Origin": PAGE}).headers["access-control-allow-origin"] == "*"
    # A 401 must be readable by the page too, or the SDK cannot tell a bad key from a dead server.
    refused = client.get("/v2/promotions", headers={"Origin": PAGE, "Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"


def test_the_control_plane_has_no_cors(client):
    assert "access-control-allow-origin" not in client.get("/__codestand/health", headers={"Origin": PAGE}).headers
    assert "access-control-allow-origin" not in preflight(client, "/__codestand/reset").headers


@pytest.fixture
def restricted() -> TestClient:
    settings = Settings(access_log=False, cors_origins=(PAGE + "/", "https://shop.example"))
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_listed_origin_is_allowed(restricted):
    response = preflight(restricted, "/v2/promotions")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PAGE
    assert restricted.get("/incoming/v2/ping", headers={"Origin": "https://shop.example"}).headers["access-control-allow-origin"] == "https://shop.example"


def test_another_origin_is_refused(restricted):
    response = preflight(restricted, "/v2/promotions", origin="https://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    answered = restricted.get("/incoming/v2/ping", headers={"Origin": "https://evil.example", "Authorization": "Bearer k"})
    assert answered.status_code == 200
    assert "access-control-allow-origin" not in answered.headers


def test_cors_origins_from_flags_or_environment(monkeypatch):
    args = parser().parse_args(["serve", "--cors-origin", PAGE, "--cors-origin", "https://shop.example"])
    assert settings_from(args).cors_origins == (PAGE, "https://shop.example")
    monkeypatch.setenv("CODESTAND_CORS_ORIGINS", f"{PAGE},https://shop.example")
    assert settings_from(parser().parse_args(["serve"])).cors_origins == (PAGE, "https://shop.example")
    monkeypatch.delenv("CODESTAND_CORS_ORIGINS")
    assert settings_from(parser().parse_args(["serve"])).cors_origins == ()


def _answering(headers: list[tuple[bytes, bytes]]):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


@pytest.mark.parametrize("origins", [[], [PAGE]])
@pytest.mark.parametrize("origin", [None, PAGE, "https://shop.example"])
@pytest.mark.parametrize(
    "answer_headers",
    [
        [(b"content-type", b"application/json")],
        [(b"content-type", b"application/json"), (b"vary", b"Accept"), (b"vary", b"Prefer")],
        [(b"access-control-allow-origin", b"https://elsewhere.example")],
    ],
)
def test_answers_get_the_headers_starlette_would_add(origins, origin, answer_headers):
    # VendorCORS adds the simple-response headers itself; Starlette's CORSMiddleware is the
    # reference for what they are.
    from starlette.middleware.cors import CORSMiddleware

    from codestand.http.cors import VendorCORS

    allowed = origins or ["*"]
    reference = CORSMiddleware(_answering(answer_headers), allow_origins=allowed, allow_methods=["*"], allow_headers=["*"])
    ours = VendorCORS(_answering(answer_headers), origins=origins)
    request_headers = {"Origin": origin} if origin else {}

    def headers_of(app) -> list[tuple[str, str]]:
        answered = TestClient(app).get("/v2/promotions", headers=request_headers)
        return sorted((name.lower(), value) for name, value in answered.headers.multi_items())

    assert headers_of(ours) == headers_of(reference)
