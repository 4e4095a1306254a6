"""`codestand serve`: flags and their environment fallbacks, and a real server in a subprocess."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from codestand import cli
from codestand.app import create_app
from codestand.core.redaction import fingerprint
from codestand.settings import Settings
from tests.live import ACCESS_LINE, Server, clean_env, free_port, run_cli

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"

# The vendor page's curl example, byte for byte, with a real course id for `<course-uuid>`.
CURL_EXAMPLE_BODY = """{
    "label": "Spring Promo",
    "codeLength": 8,
    "totalCodesCount": 100,
    "courses": ["8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"]
  }"""
CURL_EXAMPLE_HEADERS = {"Authorization": "Bearer YOUR_API_KEY", "Content-Type": "application/json"}

# A POST without a JSON body says it is no browser's (see control/cross_site.py).
CONTROL_HEADERS = {"X-Codestand": "1"}


# Flags, in-process -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_codestand_env(monkeypatch):
    """The developer's own CODESTAND_* settings must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("CODESTAND_"):
            monkeypatch.delenv(name)


def settings_for(*argv: str) -> Settings:
    return cli.settings_from(cli.parser().parse_args(["serve", *argv]))


def test_defaults():
    assert settings_for() == Settings(
        host="127.0.0.1",
        port=8080,
        storage="memory",
        seed=None,
        strict_catalog=False,
        ti_api_keys=(),
        access_log=True,
        # Not Settings' default (the in-process test client's name): a real server answers
        # only to the loopback names and its own address unless --allowed-host says more.
        allowed_hosts=(),
    )


def test_every_flag(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("courses: []\n")
    assert settings_for(
        "--host", "0.0.0.0", "--port", "9000", "--storage", "memory", "--seed", str(seed),
        "--strict-catalog", "--ti-api-key", "one", "--ti-api-key", "two", "--quiet",
    ) == Settings(
        host="0.0.0.0",
        port=9000,
        storage="memory",
        seed=seed,
        strict_catalog=True,
        ti_api_keys=("one", "two"),
        access_log=False,
        allowed_hosts=(),
    )


def test_environment_fallbacks(tmp_path, monkeypatch):
    seed = tmp_path / "seed.yaml"
    seed.write_text("courses: []\n")
    monkeypatch.setenv("CODESTAND_HOST", "0.0.0.0")
    monkeypatch.setenv("CODESTAND_PORT", "9001")
    monkeypatch.setenv("CODESTAND_STORAGE", "memory")
    monkeypatch.setenv("CODESTAND_SEED", str(seed))
    monkeypatch.setenv("CODESTAND_STRICT_CATALOG", "1")
    monkeypatch.setenv("CODESTAND_TI_API_KEYS", "k1,k2,,k3")
    assert settings_for() == Settings(
        host="0.0.0.0", port=9001, storage="memory", seed=seed, strict_catalog=True, ti_api_keys=("k1", "k2", "k3"),
        allowed_hosts=(),
    )


def test_flags_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("CODESTAND_PORT", "9001")
    monkeypatch.setenv("CODESTAND_TI_API_KEYS", "env-key")
    settings = settings_for("--port", "9002", "--ti-api-key", "flag-key")
    assert (settings.port, settings.ti_api_keys) == (9002, ("flag-key",))


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_strict_catalog_env_off(monkeypatch, value):
    monkeypatch.setenv("CODESTAND_STRICT_CATALOG", value)
    assert settings_for().strict_catalog is False


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "99999"], {}, "argument --port: '99999' is not a port number (1-65535)"),
        (["--port", "0"], {}, "argument --port: '0' is not a port number (1-65535)"),
        (["--port", "http"], {}, "argument --port: 'http' is not a port number (1-65535)"),
        ([], {"CODESTAND_PORT": "99999"}, "argument --port: '99999' is not a port number (1-65535)"),
        (["--storage", "nope"], {}, "argument --storage: 'nope' is not a storage: use 'memory', 'sqlite:PATH' or 'postgresql://USER:PASSWORD@HOST:PORT/DB'"),
        ([], {"CODESTAND_STORAGE": "nope"}, "argument --storage: 'nope' is not a storage: use 'memory', 'sqlite:PATH' or 'postgresql://USER:PASSWORD@HOST:PORT/DB'"),
        (["--seed", "/missing"], {}, "argument --seed: seed file '/missing' does not exist"),
    ],
    ids=["port-too-big", "port-zero", "port-not-a-number", "port-env", "storage", "storage-env", "seed-missing"],
)
def test_bad_flags_exit_2_with_a_message(capsys, monkeypatch, argv, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: codestand serve")
    assert err.endswith(f"codestand serve: error: {message}\n")


def test_an_unknown_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--no-such-flag"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith("codestand: error: unrecognized arguments: --no-such-flag\n")


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    assert "the following arguments are required: command" in capsys.readouterr().err


def test_each_request_is_logged_once(caplog):
    app = create_app(Settings())

    with caplog.at_level(logging.INFO, logger="codestand.access"), TestClient(app) as client:
        client.get("/incoming/v2/ping", headers={"Authorization": "Bearer k"})
        client.get("/incoming/v2/redemptionCodes", params={"query": "x"})
    lines = [r.getMessage() for r in caplog.records if r.name == "codestand.access"]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "GET /incoming/v2/ping 200",
        "GET /incoming/v2/redemptionCodes 401",
    ]
    assert all(re.fullmatch(r"\d+\.\dms", line.rsplit(" ", 1)[1]) for line in lines), lines


def test_the_log_names_a_tenant_by_its_fingerprint(caplog):
    """A control-plane path names a tenant, which may be a Thought Industries key: a secret."""
    key = "ti-key-5d1e90aa"
    app = create_app(Settings())

    with caplog.at_level(logging.INFO, logger="codestand.access"), TestClient(app) as client:
        client.get(f"/__codestand/tenants/{key}/catalog")
        client.post(f"/__codestand//tenants/{key}/reset", headers=CONTROL_HEADERS)
        client.get("/__codestand/tenants/store-1/snapshot")
    lines = [r.getMessage().rsplit(" ", 1)[0] for r in caplog.records if r.name == "codestand.access"]
    assert lines == [
        f"GET /__codestand/tenants/{fingerprint(key)}/catalog 200",
        f"POST /__codestand//tenants/{fingerprint(key)}/reset 404",
        f"GET /__codestand/tenants/{fingerprint('store-1')}/snapshot 200",
    ]


def test_a_path_cannot_write_a_log_line_of_its_own(caplog):
    app = create_app(Settings())

    with caplog.at_level(logging.INFO, logger="codestand.access"), TestClient(app) as client:
        client.get("/incoming/v2/x%0D%0A2026-01-01 codestand.access GET /forged 200 1.0ms%09%1B[31m")
    [line] = [r.getMessage() for r in caplog.records if r.name == "codestand.access"]
    assert line.startswith("GET /incoming/v2/x\\r\\n2026-01-01 codestand.access GET /forged 200 1.0ms\\t\\x1b[31m 404 ")
    assert line.isprintable()


def test_quiet_logs_no_requests(caplog):
    app = create_app(settings_for("--quiet"))

    with caplog.at_level(logging.INFO, logger="codestand.access"), TestClient(app) as client:
        client.get("/incoming/v2/ping", headers={"Authorization": "Bearer k"})
    assert [r for r in caplog.records if r.name == "codestand.access"] == []


# A real server -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("serve") / "stderr.log") as running:
        yield running


def test_vendor_curl_example_against_a_real_server(server):
    response = httpx.post(
        f"{server.url}/incoming/v2/redemptionCodes", content=CURL_EXAMPLE_BODY, headers=CURL_EXAMPLE_HEADERS
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {
        "id": body["id"],
        "label": "Spring Promo",
        "redeemedCodesCount": 0,
        "totalCodesCount": 100,
        "expirationDate": None,
        "accessDays": None,
        "accessExpirationDate": None,
        "client": None,
        "courses": [{"id": COURSE, "title": "Onboarding Essentials"}],
        "learningPaths": [],
        "bundles": [],
        "licenses": [],
    }
    got = httpx.get(f"{server.url}/incoming/v2/redemptionCodes/{body['id']}", headers=CURL_EXAMPLE_HEADERS)
    assert (got.status_code, got.json()) == (200, {**body, "uploaded": False, "gift": False})


def test_one_log_line_per_request(server):
    # Earlier tests' lines may still be on their way: count from a request of this test's own.
    sentinel = f"/log-test-{uuid.uuid4()}"
    assert httpx.get(server.url + sentinel).status_code == 404
    deadline = time.monotonic() + 5
    while not any(sentinel in line for line in server.access_lines()) and time.monotonic() < deadline:
        time.sleep(0.02)
    before = next(n for n, line in enumerate(server.access_lines()) if sentinel in line) + 1
    key = {"Authorization": "Bearer log-test"}
    sent = [
        ("GET", "/incoming/v2/ping", key, None, 200),
        ("POST", "/incoming/v2/redemptionCodes", {**key, "Content-Type": "application/json"}, CURL_EXAMPLE_BODY, 201),
        ("GET", "/incoming/v2/redemptionCodes?query=spring&sort=label:asc", key, None, 200),
        ("GET", "/incoming/v2/redemptionCodes/nope", key, None, 404),
        ("POST", "/incoming/v2/redemptionCodes", {**key, "Content-Type": "application/json"}, "{", 400),
        ("POST", "/incoming/v2/redemptionCodes", {**key, "Content-Type": "application/json"}, '{"label": "x"}', 422),
        ("GET", "/incoming/v2/ping", {"Authorization": "Basic xxx"}, None, 401),
        ("DELETE", "/incoming/v2/redemptionCodes", key, None, 405),
        ("GET", "/nowhere", {}, None, 404),
    ]
    with httpx.Client(base_url=server.url) as client:
        for method, path, headers, content, status in sent:
            response = client.request(method, path, headers=headers, content=content)
            assert response.status_code == status, (method, path, response.text)

    lines = server.wait_for_access_lines(before + len(sent))[before:]
    assert len(lines) == len(sent), lines
    logged = [ACCESS_LINE.match(line) for line in lines]
    assert all(logged), lines
    assert [(m["method"], m["path"], int(m["status"])) for m in logged] == [
        (method, path.split("?")[0], status) for method, path, _, _, status in sent
    ]
    assert all(float(m["ms"]) < 5000 for m in logged)
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_with_status_0(tmp_path, sig):
    with Server(tmp_path / "stderr.log") as server:
        started = time.monotonic()
        assert server.stop(sig, timeout=5) == 0
        assert time.monotonic() - started < 5
        log = server.log()
    assert f"serving on http://127.0.0.1:{server.port} (storage: memory)" in log
    assert log.rstrip().endswith("codestand stopped")
    assert "Traceback" not in log


def test_codestand_port_is_honoured(tmp_path):
    port = free_port()
    with Server(tmp_path / "stderr.log", env=clean_env(CODESTAND_PORT=str(port))) as server:
        assert "--port" not in server.args
        response = httpx.get(f"http://127.0.0.1:{port}/incoming/v2/ping", headers={"Authorization": "Bearer k"})
        assert (response.status_code, response.json()) == (200, {"valid": True})


def test_a_taken_port_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"codestand: port {port} on 127.0.0.1 is already in use; choose another with --port"
    )
    assert "Traceback" not in result.stderr


def test_a_bad_flag_exits_2_from_the_command_line():
    result = run_cli("serve", "--port", "99999")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "codestand serve: error: argument --port: '99999' is not a port number (1-65535)"


def test_an_unreadable_seed_is_a_clear_error(tmp_path: Path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("courses:\n  - id: 1\n")
    result = run_cli("serve", "--port", str(free_port()), "--seed", str(seed))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"codestand: seed file {seed}: courses[0] needs a string id and title or name"
    )
    assert "Traceback" not in result.stderr
