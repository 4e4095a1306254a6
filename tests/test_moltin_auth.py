"""Moltin's OAuth token endpoint and the bearer check on every `/v2/` route."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from codestand.settings import Settings
from tests.conftest import token_for

UNAUTHORIZED = {"errors": [{"status": 401, "title": "Unable to validate access token"}]}
NOW = datetime(2024, 5, 10, 15, 25, 21, tzinfo=timezone.utc)


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


def test_client_credentials_token(client):
    response = client.post(
        "/oauth/access_token", data={"grant_type": "client_credentials", "client_id": "store", "client_secret": "s"}
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body.pop("access_token")) == 40
    assert body == {
        "token_type": "Bearer",
        "expires": math.floor(NOW.timestamp()) + 3600,
        "expires_in": 3600,
        "identifier": "client_credentials",
    }


def test_implicit_token_is_refused_on_promotions(client):
    token = token_for(client, "store", grant="implicit")
    response = client.get("/v2/promotions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json() == {"errors": [{"status": 403, "title": "Forbidden"}]}


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (
            {"client_id": "s", "client_secret": "x"},
            [{"status": 400, "title": "required", "detail": "grant_type is required", "source": "grant_type"}],
        ),
        (
            {"grant_type": "password", "client_id": "s"},
            [
                {
                    "status": 400,
                    "title": "unsupported_grant_type",
                    "detail": "grant_type must be client_credentials or implicit",
                    "source": "grant_type",
                }
            ],
        ),
        (
            {"grant_type": "client_credentials", "client_secret": "x"},
            [{"status": 400, "title": "required", "detail": "client_id is required", "source": "client_id"}],
        ),
        (
            {"grant_type": "client_credentials", "client_id": "s"},
            [
                {
                    "status": 400,
                    "title": "required",
                    "detail": "client_secret is required for the client_credentials grant",
                    "source": "client_secret",
                }
            ],
        ),
    ],
    ids=["no-grant", "unknown-grant", "no-client-id", "no-secret"],
)
def test_token_request_problems(client, form, errors):
    response = client.post("/oauth/access_token", data=form)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": errors}


def test_token_endpoint_wants_a_form(client):
    response = client.post("/oauth/access_token", json={"grant_type": "implicit", "client_id": "s"})
    assert response.status_code == 415
    assert response.json() == {
        "errors": [
            {
                "status": 415,
                "title": "Unsupported Media Type",
                "detail": "The Content-Type of this request is not supported",
            }
        ]
    }


class TestConfiguredClients:
    @pytest.fixture
    def settings(self):
        return Settings(access_log=False, moltin_clients=(("store-a", "right"),))

    def test_right_secret(self, client):
        form = {"grant_type": "client_credentials", "client_id": "store-a", "client_secret": "right"}
        assert client.post("/oauth/access_token", data=form).status_code == 200

    @pytest.mark.parametrize(
        "form",
        [
            {"grant_type": "client_credentials", "client_id": "store-a", "client_secret": "wrong"},
            {"grant_type": "client_credentials", "client_id": "store-b", "client_secret": "right"},
            {"grant_type": "implicit", "client_id": "store-b"},
        ],
        ids=["wrong-secret", "unknown-client", "unknown-client-implicit"],
    )
    def test_refused(self, client, form):
        response = client.post("/oauth/access_token", data=form)
        assert response.status_code == 401
        assert response.json() == {
            "errors": [
                {"status": 401, "title": "Unauthorized", "detail": "The client_id and client_secret are not valid"}
            ]
        }

    def test_implicit_needs_no_secret(self, client):
        assert client.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": "store-a"}).status_code == 200


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer", "Basic abc", "Bearer  "],
    ids=["missing", "unknown-token", "empty", "basic", "blank"],
)
def test_v2_needs_a_live_token(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/v2/promotions", headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("order", ["token-first", "token-last", "token-twice"])
def test_several_authorization_headers_are_401(client, order):
    token = f"Bearer {token_for(client, 'store')}"
    headers = {
        "token-first": [("Authorization", token), ("Authorization", "Bearer other")],
        "token-last": [("Authorization", "Bearer other"), ("Authorization", token)],
        "token-twice": [("Authorization", token), ("Authorization", token)],
    }[order]
    response = client.post("/v2/promotions", json={"data": {"type": "promotion"}}, headers=headers)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    assert client.get("/v2/promotions", headers=headers).status_code == 401


def test_token_lapses_after_an_hour_by_the_clock(client, clock):
    token = token_for(client, "store")
    headers = {"Authorization": f"Bearer {token}"}
    clock.advance(timedelta(seconds=3599))
    assert client.get("/v2/promotions", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=1))
    response = client.get("/v2/promotions", headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_old_sdk_bearer_colon_form(client):
    token = token_for(client, "store")
    response = client.get("/v2/promotions", headers={"Authorization": f"Bearer: {token}"})
    assert response.status_code == 200


def test_colon_form_is_not_a_thought_industries_key(client):
    response = client.get("/incoming/v2/ping", headers={"Authorization": "Bearer: key"})
    assert response.status_code == 401
    assert response.content == b""


def bad_request(detail, source=None):
    error = {"status": 400, "title": "Bad Request", "detail": detail}
    return {"errors": [{**error, "source": source} if source else error]}


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "answer"),
    [
        # Read as the form's only media type, it reached the handler as bytes: a 500.
        (b"grant_type=implicit&client_id=x", None, 415, {"errors": [{"status": 415, "title": "Unsupported Media Type", "detail": "The Content-Type of this request is not supported"}]}),
        # Starlette's parser stops at 1000 fields with an exception of its own: a 500.
        (b"grant_type=implicit&client_id=x" + b"&f=1" * 1000, FORM, 400, bad_request("The form has more than 1000 fields")),
        # "Request and response parameters MUST NOT be included more than once" (RFC 6749, 3.1).
        (b"grant_type=implicit&grant_type=client_credentials&client_id=x&client_secret=s", FORM, 400, bad_request("grant_type is sent more than once", "grant_type")),
        (b"grant_type=implicit&client_id=a&client_id=b", FORM, 400, bad_request("client_id is sent more than once", "client_id")),
        # Taken as U+FFFD or a NUL, they named a new store.
        (b"grant_type=implicit&client_id=%FF%FE", FORM, 400, bad_request("The request body is not valid UTF-8")),
        (b"grant_type=implicit&client_id=\xff\xfe", FORM, 400, bad_request("The request body is not valid UTF-8")),
        (b"grant_type=implicit&client_id=a%00b", FORM, 400, bad_request("The request body must not contain NUL characters")),
        (b"", FORM, 400, bad_request("The request body is required")),
    ],
    ids=["no-content-type", "1001-fields", "grant-type-twice", "client-id-twice", "escaped-invalid-utf8", "raw-invalid-utf8", "nul", "empty"],
)
def test_token_request_forms_that_are_refused(client, body, content_type, status, answer):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/oauth/access_token", content=body, headers=headers)
    assert (response.status_code, response.json()) == (status, answer)


def test_a_form_in_utf8_names_its_store_as_sent(client):
    for body in ("grant_type=implicit&client_id=caf%C3%A9".encode(), "grant_type=implicit&client_id=café".encode()):
        response = client.post("/oauth/access_token", content=body, headers={"Content-Type": FORM})
        assert response.status_code == 200
        token = response.json()["access_token"]
        assert client.app.codestand.store.find_token(token).tenant == "café"


def test_fields_the_token_request_does_not_know_may_repeat(client):
    body = b"grant_type=implicit&client_id=store&x=1&x=2&=nameless"
    assert client.post("/oauth/access_token", content=body, headers={"Content-Type": FORM}).status_code == 200


def test_a_request_reads_its_token_from_the_store_once(app, client, monkeypatch):
    """The rate limiter and the security check need the same token: one lookup serves both."""
    store = app.codestand.store
    headers = {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
    lookups: list[str] = []
    find_token = store.find_token
    monkeypatch.setattr(store, "find_token", lambda token: lookups.append(token) or find_token(token))
    assert client.get("/v2/promotions", headers=headers).status_code == 200
    assert client.get("/v2/promotions", headers={"Authorization": "Bearer unknown"}).status_code == 401
    assert lookups == [headers["Authorization"][len("Bearer ") :], "unknown"]
