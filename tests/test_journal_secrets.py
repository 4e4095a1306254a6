"""Configured secrets never reach the journal, however a client sends them.

Before: a Moltin client secret was kept when the form field's name was percent-encoded
(`client%5Fsecret`), when the body was over 8 KB and kept as raw text, and inside a refused
`client_id`.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.control.journal import BODY_LIMIT
from codestand.settings import Settings

SECRET = "s3cr3t+Value/With=Signs%"
CLIENT = "store-js"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client():
    app = create_app(Settings(access_log=False, moltin_clients=((CLIENT, SECRET),)))
    with TestClient(app) as test_client:
        yield test_client


def journal_text(client) -> str:
    return client.get("/__codestand/journal").text


def assert_kept_nowhere(client) -> None:
    text = journal_text(client)
    for form in (SECRET, quote(SECRET, safe=""), json.dumps(SECRET)[1:-1], SECRET[: len(SECRET) // 2]):
        assert form not in text, form
    assert '"[redacted]"' in text or "[redacted]" in text


@pytest.mark.parametrize(
    "body",
    [
        f"grant_type=client_credentials&client_id={CLIENT}&client%5Fsecret={quote(SECRET, safe='')}",
        f"grant_type=client_credentials&client_id={CLIENT}&client_secre%74={quote(SECRET, safe='')}",
        f"grant_type=client_credentials&client_id={CLIENT}&client_secret={quote(SECRET, safe='')}",
    ],
)
def test_an_encoded_field_name_is_still_the_secret(client, body):
    response = client.post("/oauth/access_token", content=body, headers=FORM)
    assert response.status_code in (200, 400, 401)
    assert_kept_nowhere(client)


def test_a_body_over_the_limit_kept_as_text(client):
    padding = "x" * BODY_LIMIT
    body = f"grant_type=client_credentials&client_id={CLIENT}&client%5Fsecret={quote(SECRET, safe='')}&pad={padding}"
    client.post("/oauth/access_token", content=body, headers=FORM)
    entry = client.get("/__codestand/journal").json()["entries"][0]
    assert entry["request"]["truncated"] is True
    assert_kept_nowhere(client)


def test_a_body_cut_inside_the_secret(client):
    head = f"grant_type=client_credentials&client_id={CLIENT}&client%5Fsecret="
    padding = "&pad=" + "x" * (BODY_LIMIT - len(head) - 5 - 10)
    body = f"grant_type=client_credentials&client_id={CLIENT}{padding}&client%5Fsecret={SECRET}"
    body = body[:BODY_LIMIT - 10] + SECRET + "&more=" + "y" * 100
    client.post("/oauth/access_token", content=body, headers=FORM)
    assert_kept_nowhere(client)


def test_the_secret_inside_another_value(client):
    for client_id in (f"x {SECRET}", SECRET, f"{CLIENT}?{SECRET}"):
        client.post("/oauth/access_token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"})
    client.get(f"/v2/promotions?filter={quote(SECRET)}", headers={"Authorization": "Bearer nope"})
    client.post("/v2/promotions", content=json.dumps({"data": {"name": SECRET}}), headers={"Content-Type": "application/json", "Authorization": "Bearer x"})
    assert_kept_nowhere(client)


def test_a_json_member_with_an_escaped_name(client):
    body = '{"client\\u005fsecret": "%s", "broken": ' % SECRET.replace("/", "\\/")
    client.post("/oauth/access_token", content=body, headers={"Content-Type": "application/json"})
    text = journal_text(client)
    assert SECRET.replace("/", "\\/") not in text and SECRET not in text
