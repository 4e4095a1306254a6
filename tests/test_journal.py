"""The request journal: `GET/DELETE /__codestand/journal`."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.cli import parser, settings_from
from codestand.control.journal import BODY_LIMIT, Journal, Recorded
from codestand.core import globs
from codestand.core.redaction import fingerprint
from codestand.settings import Settings
from tests.conftest import TI_KEY, token_for
from tests.samples import GROUP, PROMOTION

CLIENT_HEADERS = {
    "host": "testserver",
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "user-agent": "testclient",
}


def journal(client: TestClient, query: str = "") -> list[dict]:
    response = client.get(f"/__codestand/journal{query}")
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def without_durations(entries: list[dict]) -> list[dict]:
    for entry in entries:
        assert entry.pop("duration_ms") >= 0
    return entries


def test_a_thought_industries_request_is_recorded_whole(client, clock):
    clock.freeze(datetime(2025, 5, 10, 15, 25, 21, 164000, tzinfo=timezone.utc))
    created = client.post("/incoming/v2/redemptionCodes", json=GROUP, headers={"Authorization": f"Bearer {TI_KEY}"})
    assert created.status_code == 201

    assert without_durations(journal(client)) == [
        {
            "id": 1,
            "time": "2025-05-10T15:25:21.164Z",
            "method": "POST",
            "path": "/incoming/v2/redemptionCodes",
            "query": "",
            "tenant": fingerprint(TI_KEY),
            "status": 201,
            "request": {
                "headers": {
                    **CLIENT_HEADERS,
                    "authorization": "[redacted]",
                    "content-length": str(len(created.request.content)),
                    "content-type": "application/json",
                },
                "body": GROUP,
                "truncated": False,
            },
            "response": {
                "headers": {
                    "content-type": "application/json",
                    "content-length": created.headers["content-length"],
                    # The rate-limits page's headers, on every Thought Industries response.
                    "x-ratelimit-limit": "120",
                    "x-ratelimit-remaining": "119",
                    "x-ratelimit-reset": str(int(datetime(2025, 5, 10, 15, 26, tzinfo=timezone.utc).timestamp())),
                    "vary": "Origin",
                },
                "body": created.json(),
                "truncated": False,
            },
        }
    ]


def test_moltin_requests_name_their_client_id_and_keep_the_query(client):
    token = token_for(client, "store-1")
    client.get("/v2/promotions?page[limit]=5", headers={"Authorization": f"Bearer {token}"})

    listed, issued = journal(client)
    assert (listed["path"], listed["query"], listed["tenant"], listed["status"]) == ("/v2/promotions", "page[limit]=5", "store-1", 200)
    assert listed["request"]["body"] is None
    assert (issued["path"], issued["tenant"], issued["status"]) == ("/oauth/access_token", "store-1", 200)
    assert issued["request"]["body"] == {"grant_type": "client_credentials", "client_id": "store-1", "client_secret": "[redacted]"}
    assert issued["response"]["body"]["access_token"] == "[redacted]"
    assert issued["response"]["body"]["token_type"] == "Bearer"


def test_errors_are_recorded_with_the_status_the_client_got(client):
    client.get("/incoming/v2/ping")
    client.post("/v2/promotions", json=PROMOTION, headers={"Authorization": "Bearer not-a-token"})
    client.get("/incoming/v2/nowhere", headers={"Authorization": f"Bearer {TI_KEY}"})

    nowhere, promotion, ping = journal(client)
    # The vendor's 401 has an empty body; an unauthenticated request has no tenant.
    assert (ping["status"], ping["tenant"], ping["response"]["body"]) == (401, None, None)
    assert (promotion["status"], promotion["tenant"]) == (401, None)
    assert promotion["response"]["body"] == {"errors": [{"status": 401, "title": "Unable to validate access token"}]}
    assert (nowhere["status"], nowhere["response"]["body"]) == (404, {"errors": ["Not found."]})


def test_no_secret_is_stored():
    admin = "admin-token-4f1c"
    app = create_app(Settings(access_log=False, admin_token=admin))
    with TestClient(app) as client:
        form = {"grant_type": "client_credentials", "client_id": "store-1", "client_secret": "secret-b81e"}
        token = client.post("/oauth/access_token", data=form).json()["access_token"]
        # A secret in a form too long to keep whole is cut out of the text that is kept.
        client.post("/oauth/access_token", data={**form, "client_secret": "secret-long-77aa", "padding": "x" * BODY_LIMIT})
        client.post("/v2/promotions", json=PROMOTION, headers={"Authorization": f"Bearer {token}"})
        client.get("/v2/promotions", headers={"Authorization": f"Bearer: {token}"})
        client.get("/incoming/v2/ping", headers={"Authorization": f"Bearer {admin}", "Cookie": f"session={admin}"})
        response = client.get("/__codestand/journal", headers={"Authorization": f"Bearer {admin}"})

    assert response.status_code == 200
    assert len(response.json()["entries"]) == 5
    assert response.json()["entries"][3]["request"]["truncated"] is True
    for secret in ("secret-b81e", "secret-long-77aa", token, admin):
        assert secret not in response.text


def test_a_thought_industries_key_is_named_by_its_fingerprint(client):
    """The key is a secret as well as the tenant's name: the journal names it by its fingerprint,
    which a filter finds given either."""
    key = "ti-key-9f0c2b7e41d8"
    client.get("/incoming/v2/ping", headers={"Authorization": f"Bearer {key}"})
    client.get("/incoming/v2/ping", headers={"Authorization": "Bearer another-key"})
    named = "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    assert fingerprint(key) == named
    for query in (f"?tenant={key}", f"?tenant={named}"):
        [entry] = journal(client, query)
        assert entry["tenant"] == named
    response = client.get("/__codestand/journal")
    assert key not in response.text
    assert len(response.json()["entries"]) == 2


def test_control_plane_requests_are_not_recorded(client):
    client.get("/__codestand/health")
    client.get("/__codestand/clock")
    client.get("/openapi.json")
    assert journal(client) == []


def test_the_journal_keeps_only_the_last_n_requests():
    with TestClient(create_app(Settings(access_log=False, journal_size=3))) as client:
        for _ in range(5):
            client.get("/incoming/v2/ping", headers={"Authorization": f"Bearer {TI_KEY}"})
        assert [e["id"] for e in journal(client)] == [5, 4, 3]


def test_the_journal_is_a_bounded_deque():
    kept = Journal(size=2)
    for n in range(10_000):
        kept.record(Recorded(datetime.now(timezone.utc), {"method": "GET", "path": f"/v2/{n}"}, {}))
    assert [e["path"] for e in kept.entries()] == ["/v2/9999", "/v2/9998"]
    assert len(kept._entries) == 2


@pytest.mark.parametrize("kept", ["memory", "sqlite"])
def test_the_span_counts_what_is_kept_and_names_the_oldest(kept, tmp_path):
    from codestand.control.shared import SharedJournal
    from codestand.storage.sqlite import SqliteStorage

    journal = Journal(size=3) if kept == "memory" else SharedJournal(SqliteStorage(tmp_path / "j.sqlite"), size=3)
    assert journal.span() == (0, None)
    for n in range(5):
        journal.record(Recorded(datetime.now(timezone.utc), {"method": "GET", "path": f"/v2/{n}"}, {}))
    newest_first = [e["id"] for e in journal.entries()]
    assert len(newest_first) == 3
    assert journal.span() == (3, newest_first[-1])
    journal.clear()
    assert journal.span() == (0, None)


def test_size_zero_records_nothing():
    with TestClient(create_app(Settings(access_log=False, journal_size=0))) as client:
        client.get("/incoming/v2/ping", headers={"Authorization": f"Bearer {TI_KEY}"})
        assert journal(client) == []


def test_long_bodies_are_cut_and_kept_as_text(ti):
    label = "L" * (BODY_LIMIT + 10)
    ti.post("/incoming/v2/redemptionCodes", json={**GROUP, "label": label})

    [entry] = journal(ti)
    assert entry["request"]["truncated"] is True
    assert isinstance(entry["request"]["body"], str) and len(entry["request"]["body"]) == BODY_LIMIT
    assert entry["request"]["body"].replace(" ", "").startswith('{"label":"LLLL')
    assert entry["response"]["truncated"] is False


def test_a_body_in_many_parts_is_kept_whole_up_to_the_limit(ti):
    """A body streamed in parts (a client dribbling it) is kept as one, and cut at the limit."""
    body = json.dumps(GROUP).encode()

    def parts(data: bytes, size: int):
        for at in range(0, len(data), size):
            yield data[at : at + size]

    ti.post("/incoming/v2/redemptionCodes", content=parts(body, 7), headers={"Content-Type": "application/json"})
    long = json.dumps({**GROUP, "label": "L" * (BODY_LIMIT + 100)}).encode()
    refused = ti.post("/incoming/v2/redemptionCodes", content=parts(long, 1000), headers={"Content-Type": "application/json"})
    assert refused.status_code == 422  # the label is too long

    cut, whole = journal(ti)
    assert (whole["status"], whole["request"]["body"], whole["request"]["truncated"]) == (201, GROUP, False)
    assert (cut["status"], cut["request"]["body"], cut["request"]["truncated"]) == (refused.status_code, long[:BODY_LIMIT].decode(), True)


def test_bodies_that_are_not_json_are_kept_as_text(ti):
    ti.post("/incoming/v2/redemptionCodes", content=b'{"label": ', headers={"Content-Type": "application/json"})
    [entry] = journal(ti)
    assert (entry["status"], entry["request"]["body"]) == (400, '{"label": ')


@pytest.mark.parametrize("depth", [900, 3000])
def test_a_deeply_nested_body_is_kept_as_text(ti, depth):
    # Parsed and kept as JSON, it broke the recording (past the recursion limit) or every later
    # read of the journal (an answer that wraps it no longer fit under the limit).
    body = b"[" * depth + b"]" * depth
    response = ti.post("/incoming/v2/redemptionCodes", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    [entry] = journal(ti)
    assert (entry["status"], entry["request"]["body"]) == (400, body.decode())


def test_a_body_the_server_never_read_is_null(ti):
    # A 415 is answered from the Content-Type alone.
    ti.post("/incoming/v2/redemptionCodes", content=b"label=x", headers={"Content-Type": "text/plain"})
    [entry] = journal(ti)
    assert (entry["status"], entry["request"]["body"]) == (415, None)


@pytest.fixture
def traffic(client) -> TestClient:
    """Three tenants' requests: ids 1-2 store-1, 3 another key, 4-6 the test key."""
    token = token_for(client, "store-1")
    client.post("/v2/promotions", json=PROMOTION, headers={"Authorization": f"Bearer {token}"})
    client.get("/incoming/v2/ping", headers={"Authorization": "Bearer other-key"})
    client.headers["Authorization"] = f"Bearer {TI_KEY}"
    client.post("/incoming/v2/redemptionCodes", json=GROUP)
    client.get("/incoming/v2/redemptionCodes/no-such-group")
    client.get("/incoming/v2/redemptionCodes?sort=label:asc")
    return client


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", [6, 5, 4, 3, 2, 1]),
        ("?path=redemptionCodes", [6, 5, 4]),
        ("?path=/incoming/v2/redemptionCodes/*", [5]),
        ("?path=/v2/**", [2]),
        ("?path=/incoming/*/ping", [3]),
        ("?method=post", [4, 2, 1]),
        ("?status=404", [5]),
        ("?status=2xx", [6, 4, 3, 2, 1]),
        ("?tenant=store-1", [2, 1]),
        (f"?tenant={TI_KEY}&method=GET", [6, 5]),
        ("?limit=2", [6, 5]),
        ("?path=/nowhere", []),
    ],
)
def test_filters(traffic, query, ids):
    assert [e["id"] for e in journal(traffic, query)] == ids


def test_a_bad_filter_is_refused(client):
    response = client.get("/__codestand/journal?status=abc")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "status": 400,
                "title": "Bad Request",
                "detail": "status is invalid: 'abc' does not match '^[1-5]([0-9]{2}|[xX]{2})$'",
                "source": "status",
            }
        ]
    }


def test_clearing_empties_the_journal(traffic):
    response = traffic.delete("/__codestand/journal")
    assert (response.status_code, response.content) == (204, b"")
    assert journal(traffic) == []
    traffic.get("/incoming/v2/ping")
    assert [e["id"] for e in journal(traffic)] == [7]


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("/v2/promotions/*/codes", "/v2/promotions/abc/codes", True),
        ("/v2/promotions/*/codes", "/v2/promotions/abc/codes/XYZ", False),
        ("/v2/promotions/*", "/v2/promotions/abc/codes", False),
        ("/v2/**", "/v2/promotions/abc/codes", True),
        ("/v2/promotions/?", "/v2/promotions/a", True),
        ("/v2/promotions/?", "/v2/promotions/ab", False),
        ("/incoming/v2/redemptionCodes", "/incoming/v2/redemptionCodes", True),
        ("/incoming/v2/redemptionCodes", "/incoming/v2/redemptionCodes/x", False),
        ("/v2/promotions/a.c", "/v2/promotions/abc", False),
    ],
)
def test_globs(pattern, path, matched):
    assert globs.matches(pattern, path) is matched


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("/v2/**/codes/*", "/v2/promotions/a/codes/X", True),
        ("/v2/**/codes/*", "/v2/promotions/a/codes/X/Y", False),
        ("/**", "/", True),
        ("**", "", True),
        ("*", "", True),
        ("*", "/", False),
        ("/a/***", "/a/b/c", True),
        ("/a/**b", "/a/xb", True),
        ("/a/*b*c", "/a/xbycz", False),
        ("/a/*b*c", "/a/xbyc", True),
        ("/[a]/.?/$", "/[a]/ax/$", False),
        ("/[a]/.?/$", "/[a]/.x/$", True),
    ],
)
def test_globs_edge_cases(pattern, path, matched):
    assert globs.matches(pattern, path) is matched


@pytest.mark.parametrize("star", ["*", "**"])
def test_a_glob_takes_linear_time_whatever_the_pattern(star):
    # With a backtracking regular expression, `/*a*a*a*a*a*a*x` against a long run of `a`
    # takes hours: a journal filter or a fault rule (checked on every vendor request) would
    # freeze the server.
    pattern = "/" + f"{star}a" * 40 + "x"
    started = time.perf_counter()
    assert not globs.matches(pattern, "/" + "a" * 20_000)
    assert time.perf_counter() - started < 1


def test_journal_size_from_the_command_line_and_the_environment(monkeypatch):
    assert settings_from(parser().parse_args(["serve"])).journal_size == 1000
    assert settings_from(parser().parse_args(["serve", "--journal-size", "3"])).journal_size == 3
    monkeypatch.setenv("CODESTAND_JOURNAL_SIZE", "7")
    assert settings_from(parser().parse_args(["serve"])).journal_size == 7


def test_a_bad_journal_size_is_refused(capsys):
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["serve", "--journal-size", "-1"])
    assert exited.value.code == 2
    assert "'-1' is not a whole number (0 or more)" in capsys.readouterr().err
