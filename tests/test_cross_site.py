"""Pages of other sites cannot drive the stand-in, and a network port needs a token.

Before: `POST /__codestand/reset` with `Content-Type: text/plain` from another `Origin` (what a
browser sends without a preflight) answered 204; any `Host` was answered, so a DNS-rebinding
page could read the journal as its own; Moltin's `links` took the `Host` a client gave; and
`codestand serve --host 0.0.0.0` started without a word.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from codestand import cli
from codestand.http.hosts import allowed_names, host_name
from codestand.settings import Settings
from tests.conftest import TI_KEY, token_for
from tests.live import Server, clean_env, run_cli
from tests.samples import GROUP

CONTROL_HEADERS = {"X-Codestand": "1"}


def cross_site(reason: str) -> dict:
    return {"errors": [{"status": 403, "title": "Cross-site request refused", "detail": reason}]}


OTHER_ORIGIN = cross_site("The control plane takes no requests from pages of another origin")
OTHER_SITE = cross_site("The control plane takes no requests from pages of another site")
NEEDS_JSON = cross_site("A POST to the control plane needs a JSON body or the header X-Codestand: 1")


# Cross-site requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "refusal"),
    [
        # What a page's form or `fetch(..., {mode: "no-cors"})` sends: no preflight.
        ({"Content-Type": "text/plain", "Origin": "http://evil.example"}, b"x", OTHER_ORIGIN),
        ({"Content-Type": "application/x-www-form-urlencoded", "Origin": "null"}, b"a=b", OTHER_ORIGIN),
        ({"Content-Type": "multipart/form-data; boundary=x", "Origin": "http://evil.example"}, b"--x--", OTHER_ORIGIN),
        # Browsers that send no Origin, or a fetch without a body.
        ({"Content-Type": "text/plain"}, b"x", NEEDS_JSON),
        ({}, b"", NEEDS_JSON),
        # Fetch metadata of a browser that did send Origin as its own page's.
        ({"Sec-Fetch-Site": "cross-site", **CONTROL_HEADERS}, b"", OTHER_SITE),
        ({"Origin": "http://evil.example", **CONTROL_HEADERS}, b"", OTHER_ORIGIN),
        # Another port of the same machine is another origin too.
        ({"Origin": "http://testserver:9999", **CONTROL_HEADERS}, b"", OTHER_ORIGIN),
    ],
)
def test_a_cross_site_reset_is_refused_and_changes_nothing(ti, headers, body, refusal):
    created = ti.post("/incoming/v2/redemptionCodes", json=GROUP).json()
    for path in ("/__codestand/reset", f"/__codestand/tenants/{TI_KEY}/reset"):
        response = ti.post(path, content=body, headers=headers)
        assert (response.status_code, response.json()) == (403, refusal)
    assert ti.get(f"/incoming/v2/redemptionCodes/{created['id']}").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [CONTROL_HEADERS, {"Origin": "http://testserver", **CONTROL_HEADERS}, {"Sec-Fetch-Site": "same-origin", **CONTROL_HEADERS}],
)
def test_test_code_and_the_servers_own_pages_may_reset(ti, headers):
    created = ti.post("/incoming/v2/redemptionCodes", json=GROUP).json()
    assert ti.post("/__codestand/reset", headers=headers).status_code == 204
    assert ti.get(f"/incoming/v2/redemptionCodes/{created['id']}").status_code == 404


def test_json_bodies_need_no_header_but_a_foreign_origin_is_refused(client):
    rule = {"path": "/nowhere", "status": 503}
    assert client.post("/__codestand/faults", json=rule).status_code == 201
    refused = client.post("/__codestand/faults", json=rule, headers={"Origin": "http://evil.example"})
    assert (refused.status_code, refused.json()) == (403, OTHER_ORIGIN)
    for method, path in (("PUT", "/__codestand/clock"), ("DELETE", "/__codestand/faults"), ("DELETE", "/__codestand/journal")):
        response = client.request(method, path, json={"now": "2030-01-01T00:00:00Z"}, headers={"Origin": "http://evil.example"})
        assert (method, path, response.status_code) == (method, path, 403)
    assert len(client.get("/__codestand/faults").json()["faults"]) == 1


def test_reads_carry_no_cors_headers(client):
    response = client.get("/__codestand/journal", headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# Host names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("LocalHost:8080", "localhost"),
        ("localhost.", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("evil.example:8080", "evil.example"),
        ("evil.example:", "evil.example"),
    ],
)
def test_host_names_are_read_without_port_case_or_brackets(value, name):
    assert host_name(value) == name


def test_the_allowed_names():
    assert allowed_names("127.0.0.1", ()) == {"localhost", "127.0.0.1", "::1"}
    assert allowed_names("0.0.0.0", ("Stand-In.Test",)) == {"localhost", "127.0.0.1", "::1", "stand-in.test"}
    assert allowed_names("10.1.2.3", ()) == {"localhost", "127.0.0.1", "::1", "10.1.2.3"}
    assert allowed_names("127.0.0.1", ("*",)) is None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("hosts") / "server.log", "--moltin-client", "store-h:secret-h") as running:
        running.start()
        yield running


def moltin_token(http: httpx.Client) -> str:
    form = {"grant_type": "client_credentials", "client_id": "store-h", "client_secret": "secret-h"}
    return http.post("/oauth/access_token", data=form).json()["access_token"]


def test_a_rebinding_host_is_refused_before_anything_else(server):
    evil = {"Host": f"evil.example:{server.port}"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = moltin_token(http)
        before = http.get("/__codestand/journal").json()
        for path in ("/__codestand/journal", "/__codestand/tenants/store-h/snapshot", "/__codestand/health"):
            response = http.get(path, headers=evil)
            assert (path, response.status_code, response.json()) == (
                path,
                400,
                {
                    "errors": [
                        {
                            "status": 400,
                            "title": "Unknown host",
                            "detail": f"This server does not answer to the host name evil.example:{server.port}; start it with --allowed-host NAME",
                        }
                    ]
                },
            )
        # Each vendor's own shape.
        ti = http.get("/incoming/v2/ping", headers={**evil, "Authorization": "Bearer k"})
        assert (ti.status_code, ti.json()) == (
            400,
            {"errors": [f"This server does not answer to the host name evil.example:{server.port}; start it with --allowed-host NAME."]},
        )
        moltin = http.get("/v2/promotions", headers={**evil, "Authorization": f"Bearer {token}"})
        assert moltin.status_code == 400
        assert moltin.json()["errors"][0]["title"] == "Unknown host"
        # Several Host headers, or an empty one.
        assert http.get("/__codestand/health", headers={"Host": ""}).status_code == 400
        # Nothing reached the journal.
        assert http.get("/__codestand/journal").json() == before


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "LOCALHOST.", "[::1]"])
def test_loopback_names_are_answered(server, host):
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/__codestand/health", headers={"Host": f"{host}:{server.port}"}).status_code == 200


def test_moltin_links_use_only_a_checked_host(tmp_path):
    with Server(tmp_path / "server.log", "--allowed-host", "stand-in.test", "--quiet") as running:
        running.start()
        with httpx.Client(base_url=running.url, timeout=10) as http:
            token = httpx.post(
                f"{running.url}/oauth/access_token", data={"grant_type": "client_credentials", "client_id": "s", "client_secret": "x"}
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            named = http.get("/v2/promotions", headers={**auth, "Host": "stand-in.test:8443"})
            assert named.status_code == 200
            assert named.json()["links"]["first"] == "http://stand-in.test:8443/v2/promotions?page[limit]=25&page[offset]=0"  # the default page (pagination guide)
            assert http.get("/v2/promotions", headers={**auth, "Host": "evil.example"}).status_code == 400


# Off loopback ----------------------------------------------------------------------------------


def test_serving_the_network_without_a_token_is_refused():
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "1", env=clean_env())
    assert result.returncode == 1
    assert "--admin-token" in result.stderr
    assert "--insecure-no-admin-token" in result.stderr
    assert "serving on" not in result.stderr


def test_the_environment_counts_as_well():
    result = run_cli("serve", "--port", "1", env=clean_env(CODESTAND_HOST="::"))
    assert result.returncode == 1
    assert "--admin-token" in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_token(host):
    cli.check_exposure(Settings(host=host))


def test_a_token_or_the_loud_opt_out_lets_it_serve(caplog):
    cli.check_exposure(Settings(host="0.0.0.0", admin_token="t"))
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="codestand"):
        cli.check_exposure(Settings(host="0.0.0.0", insecure_no_admin_token=True))
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].getMessage().startswith("INSECURE: serving 0.0.0.0 without --admin-token")


def test_the_opt_out_flag_and_variable(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("CODESTAND_"):
            monkeypatch.delenv(name)
    parse = lambda *argv: cli.settings_from(cli.parser().parse_args(["serve", *argv]))  # noqa: E731
    assert parse().insecure_no_admin_token is False
    assert parse("--insecure-no-admin-token").insecure_no_admin_token is True
    assert parse("--allowed-host", "a.test", "--allowed-host", "b.test").allowed_hosts == ("a.test", "b.test")
    monkeypatch.setenv("CODESTAND_INSECURE_NO_ADMIN_TOKEN", "1")
    monkeypatch.setenv("CODESTAND_ALLOWED_HOSTS", "c.test,d.test")
    assert (parse().insecure_no_admin_token, parse().allowed_hosts) == (True, ("c.test", "d.test"))


def test_with_a_token_the_control_plane_needs_it(tmp_path):
    with Server(tmp_path / "server.log", "--admin-token", "tok-16", "--quiet") as running:
        running.start()
        with httpx.Client(base_url=running.url, timeout=10) as http:
            assert http.post("/__codestand/reset", headers=CONTROL_HEADERS).status_code == 401
            assert http.get("/__codestand/journal").status_code == 401
            assert http.post("/__codestand/reset", headers={**CONTROL_HEADERS, "Authorization": "Bearer tok-16"}).status_code == 204


def test_token_for_is_still_usable(client):
    # The in-process client's name is allowed by default (Settings), the CLI's list replaces it.
    assert token_for(client, "store-x")
