"""Hostile input: every operation of both contracts, refused in its vendor's shape, state unchanged.

Two parts:

- The corpus (`tests/hostile_corpus.py`), sent in-process to one seeded app per storage
  backend: each case gets its exact 4xx, in the error shape of the vendor whose path it called
  (Thought Industries' `{"errors": [message]}` and empty 401, Moltin's error objects, the control
  plane's), as `application/json`, never problem+json, with no traceback or Python internals;
  nothing in the store, the clock or the fault rules changes, and nothing is logged as an error.
- What an in-process client cannot send (NUL and invalid UTF-8 in header values and paths,
  several or huge Authorization headers, 10 MB bodies, truncated bodies, `../` and `%2F` in
  paths), over a socket to a real `codestand serve` per backend: after each, the server answers
  a normal request and its state is unchanged; its log holds no traceback.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
import jsonschema
import pytest
from starlette.testclient import TestClient

from codestand.core import tenants as tenant_keys
from codestand import spec
from codestand.app import create_app
from codestand.control import snapshots
from codestand.core.clock import Clock
from codestand.settings import Settings
from codestand.storage.memory import MemoryStorage
from codestand.storage.postgresql import PostgresStorage
from codestand.storage.sqlite import SqliteStorage
from tests.conftest import TEST_STORES, fresh_pg_store
from tests.hostile_corpus import (
    CONTROL,
    NONE,
    OPS,
    VALID,
    Case,
    State,
    corpus,
    family_of,
    json_body_cases,
    operations,
)
from tests.live import Server
from tests.samples import GROUP, PROMOTION

ADMIN = "hostile-admin-token"
TI_KEY = "hostile-ti-key"
STORE = "hostile-store"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

CASES = corpus()

# The three error shapes, from the contracts themselves.
_VENDOR = spec.load()["components"]["schemas"]
ERROR_SCHEMAS = {
    "ti": _VENDOR["TiErrors"],
    "moltin": _VENDOR["MoltinErrors"],
    "control": spec.load("control.yaml")["components"]["responses"]["Error"]["content"]["application/json"]["schema"],
}
# Checked once here, not once a case as `jsonschema.validate` would.
ERROR_VALIDATORS = {family: jsonschema.validators.validator_for(schema)(schema) for family, schema in ERROR_SCHEMAS.items()}
for _schema in ERROR_SCHEMAS.values():
    jsonschema.validators.validator_for(_schema).check_schema(_schema)
# What a stack trace or a Python repr of an object looks like in a body.
LEAKS = re.compile(r"Traceback|File \"|\.py\b|line \d+, in|\w+(Error|Exception)\b|object at 0x|<class ")


# Seeding and looking at state ----------------------------------------------------------------


def _ok(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def seed(client: httpx.Client) -> State:
    """A group with a redeemed code, a catalog entry, a promotion with a used code, a fault rule."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    ti = {"Authorization": f"Bearer {TI_KEY}"}
    _ok(client.post(f"{CONTROL}/tenants/{TI_KEY}/catalog", json={"courses": [{"id": "c-1", "title": "Course one"}]}, headers=admin), 200)
    group = _ok(client.post("/incoming/v2/redemptionCodes", json=GROUP, headers=ti), 201)["id"]
    codes = [c["code"] for c in _ok(client.get(f"{CONTROL}/tenants/{TI_KEY}/redemption-code-groups/{group}/codes", headers=admin), 200)["codes"]]
    _ok(client.post(f"{CONTROL}/tenants/{TI_KEY}/redemptions", json={"code": codes[0], "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"}, headers=admin), 201)
    form = {"grant_type": "client_credentials", "client_id": STORE, "client_secret": "secret"}
    token = _ok(client.post("/oauth/access_token", data=form), 200)["access_token"]
    moltin = {"Authorization": f"Bearer {token}"}
    promotion = _ok(client.post("/v2/promotions", json=PROMOTION, headers=moltin), 201)["data"]["id"]
    body = {"data": {"type": "promotion_codes", "codes": [{"code": "SEED-1", "uses": 5}, {"code": "SEED-2"}]}}
    _ok(client.post(f"/v2/promotions/{promotion}/codes", json=body, headers=moltin), 201)
    _ok(client.post(f"{CONTROL}/tenants/{STORE}/promotion-code-uses", json={"code": "SEED-1", "user": "shopper-1"}, headers=admin), 201)
    fault = _ok(client.post(f"{CONTROL}/faults", json={"path": "/nowhere/**", "status": 503}, headers=admin), 201)["id"]
    job = _ok(client.post(f"/v2/promotions/{promotion}/jobs", json={"job_type": "code_export"}, headers=moltin), 201)["data"]["id"]
    # Read once, so that it has started (by the frozen clock it stays processing): a refused
    # request that reads the jobs then finds nothing to move on.
    _ok(client.get(f"/v2/promotions/{promotion}/jobs", headers=moltin), 200)
    return State(
        job=job,
        ti_key=TI_KEY,
        group=group,
        unredeemed_code=codes[1],
        moltin_client=STORE,
        token=token,
        promotion=promotion,
        codes=["SEED-1", "SEED-2"],
        fault=fault,
        admin=ADMIN,
        snapshot=_ok(client.get(f"{CONTROL}/tenants/{TI_KEY}/snapshot", headers=admin), 200),
    )


@dataclass
class InProcess:
    app: object
    store: MemoryStorage | SqliteStorage
    client: TestClient
    state: State

    def reseed(self) -> None:
        """Back to the seeded state, after a case that changed it (so that one failure stays one)."""
        services = self.app.codestand
        self.store.reset()
        services.faults.clear()
        services.clock.reset()
        services.clock.freeze(NOW)
        self.state = seed(self.client)


def dump(served: InProcess) -> dict:
    """Everything stored, every tenant's, and the clock and fault rules."""
    store = served.store
    if isinstance(store, SqliteStorage):
        with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as db:
            names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            tables = {name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
        tenants = [row[1] for row in tables["tenants"]]
        tokens: object = tables["tokens"]
    elif isinstance(store, PostgresStorage):
        # The journal and the rate-limit windows are kept in this store too: they count requests,
        # refused ones included, by design. What the journal recorded is checked on its own, the
        # counts by test_ti_rate_limits.py and test_replicas.py.
        with store._pool.connection() as db:
            names = [
                row[0]
                for row in db.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('journal', 'rate_windows') ORDER BY 1"
                )
            ]
            tables = {name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
        tenants = [row[1] for row in tables["tenants"]]
        tokens = tables["tokens"]
    else:
        tables = {}
        tenants = list(store._tenants)
        tokens = sorted((k, t.tenant, t.grant, t.expires_at) for k, t in store._tokens.items())
    exported = {tenant: snapshots.export(store, tenant, tenant) for tenant in sorted(tenants)}
    services = served.app.codestand
    return {
        "tenants": {t: e for t, e in exported.items() if _holds_something(e)},
        "tokens": tokens,
        "tables": tables,
        "clock": (services.clock.now(), services.clock.frozen),
        "faults": [rule.to_json() for rule in services.faults.rules()],
    }


def _holds_something(snapshot: dict) -> bool:
    return any(snapshot[k] for k in ("redemptionCodeGroups", "redemptions", "promotions")) or any(snapshot["catalog"].values())


@pytest.fixture(scope="module", params=TEST_STORES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    if request.param == "postgresql":
        store = fresh_pg_store(request)
    else:
        store = MemoryStorage() if request.param == "memory" else SqliteStorage(tmp_path_factory.mktemp("hostile") / "codestand.sqlite")
    clock = Clock()
    clock.freeze(NOW)
    # A journal that never fills, so that an entry gone from it was cleared, not pushed out.
    app = create_app(Settings(access_log=False, admin_token=ADMIN, journal_size=1_000_000), store=store, clock=clock)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield InProcess(app, store, client, seed(client))
    finally:
        store.close()


# Sending a case and checking the answer -------------------------------------------------------


def request_of(case: Case, state: State) -> tuple[str, str, list[tuple[str, str | bytes]], bytes | None]:
    op = case.op
    values = state.path_values(op)
    values.update(dict(case.params))
    path = (case.path or op.template).format(**values)
    url = f"{path}?{case.query}" if case.query else path
    headers: list[tuple[str, str | bytes]] = []
    credential = state.credential(op.family) if op.secured else None
    if case.auth == VALID:
        if credential:
            headers.append(("Authorization", credential))
    elif case.auth != NONE:
        headers += [("Authorization", credential if value == VALID else value) for value in case.auth]
    if case.content_type:
        headers.append(("Content-Type", case.content_type))
    if op.family == "control" and not case.browser:
        headers.append(("X-Codestand", "1"))
    headers += list(case.headers)
    body = case.body(state) if callable(case.body) else case.body
    return case.method or op.method, url, headers, body


def check_answer(case: Case, path: str, status: int, headers: httpx.Headers, content: bytes) -> None:
    text = content.decode("utf-8", errors="replace")
    assert status == case.status, text[:1000]
    content_type = headers.get("content-type")
    family = family_of(path)
    if family == "ti" and status == 401:
        # The vendor answers an unauthenticated request with 401 and an empty body [doc].
        assert (content, content_type) == (b"", None)
    else:
        assert content_type == "application/json", text[:300]
        ERROR_VALIDATORS[family].validate(json.loads(content))
    if status == 405:
        assert headers.get("allow"), "405 without Allow"
    if case.says:
        assert case.says in text, text[:1000]
    assert not LEAKS.search(text), text[:1000]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request_is_refused_in_shape_and_changes_nothing(served: InProcess, case: Case, caplog) -> None:
    before = dump(served)
    journal = served.app.codestand.journal
    # (Reading the entries themselves twice a case would cost the corpus time quadratic in its size.)
    held, oldest = journal.span()
    method, url, headers, body = request_of(case, served.state)
    with caplog.at_level(logging.WARNING):
        response = served.client.request(method, url, headers=headers, content=body)
    try:
        check_answer(case, url.split("?", 1)[0], response.status_code, response.headers, response.content)
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    finally:
        try:
            after = dump(served)
        except Exception as exc:  # noqa: BLE001  # a state that cannot even be read changed
            after = {"dump failed": repr(exc)}
        if after != before:
            served.reseed()
    assert after == before
    held_after, oldest_after = journal.span()
    assert held_after >= held and (oldest is None or oldest_after == oldest), "the journal lost entries"


def test_the_corpus_covers_every_operation_of_both_contracts() -> None:
    """The cases come from the contracts' operations: a new one gets its generic cases (and,
    with a body, fails collection until `VALID_BODIES` has one for it)."""
    ops = operations()
    assert len(ops) == len(OPS), "operationIds must stay unique"
    served = {
        (method.upper(), base + path)
        for base, document in (("", "/openapi.json"), (CONTROL, f"{CONTROL}/openapi.json"))
        for path, item in _served_contract(document)["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert {(op.method, op.template) for op in ops} == served
    by_op: dict[str, set[str]] = {}
    for case in CASES:
        by_op.setdefault(case.op.name, set()).add(case.name)
    assert set(by_op) == {op.name for op in ops}, [op.name for op in ops if op.name not in by_op]
    json_names = {c.name for c in json_body_cases(OPS["create_group"])}
    for op in ops:
        names = by_op[op.name]
        if op.secured:
            assert {"no-credential", "huge-credential", "two-credentials-valid-last"} <= names, op.name
        for param in op.path_params:
            assert f"path-{param}-dot-dot-slash" in names, op.name
        for param in op.query:
            assert f"query-{param['name']}-twice" in names, op.name
        if op.media_type == "application/json":
            assert json_names <= names, op.name
        elif op.media_type:
            assert {"form-json", "form-content-type-missing", "form-grant-type-twice"} <= names, op.name


def _served_contract(path: str) -> dict:
    """The contract as the app serves it (what a client, and Schemathesis, sees)."""
    app = create_app(Settings(access_log=False))
    with TestClient(app) as client:
        return _ok(client.get(path), 200)


def test_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


# What is accepted stays exactly what was sent ------------------------------------------------


def test_metacharacters_in_labels_and_codes_are_kept_verbatim_and_never_interpreted(client, store) -> None:
    ti = {"Authorization": f"Bearer {TI_KEY}"}
    labels = ["Robert'); DROP TABLE groups;--", "100% off_today", "$(reboot) `id` | sh; \\ \" */"]
    for label in labels:
        _ok(client.post("/incoming/v2/redemptionCodes", json={**GROUP, "label": label}, headers=ti), 201)
    listed = _ok(client.get("/incoming/v2/redemptionCodes", params={"sort": "label:asc"}, headers=ti), 200)
    assert sorted(g["label"] for g in listed["redemptionCodeGroups"]) == sorted(labels)
    # LIKE and glob wildcards match themselves only; a quote ends nothing.
    for query, found in (("%", [labels[1]]), ("_", [labels[1]]), ("*", [labels[2]]), ("' OR '1'='1", []), ("')", [labels[0]])):
        page = _ok(client.get("/incoming/v2/redemptionCodes", params={"query": query}, headers=ti), 200)
        assert [g["label"] for g in page["redemptionCodeGroups"]] == found, query

    token = _ok(client.post("/oauth/access_token", data={"grant_type": "client_credentials", "client_id": STORE, "client_secret": "s"}), 200)["access_token"]
    moltin = {"Authorization": f"Bearer {token}"}
    promotion = _ok(client.post("/v2/promotions", json=PROMOTION, headers=moltin), 201)["data"]["id"]
    codes = ["';DROP_TABLE_promotion_codes;--", "$(reboot)", "`id`|sh", "a*b_c"]
    body = {"data": {"type": "promotion_codes", "codes": [{"code": c} for c in codes]}}
    _ok(client.post(f"/v2/promotions/{promotion}/codes", json=body, headers=moltin), 201)
    listed_codes = _ok(client.get(f"/v2/promotions/{promotion}/codes", headers=moltin), 200)["data"]
    assert [c["code"] for c in listed_codes] == codes
    # The vendor's filter grammar (filtering guide) takes a backtick or a quote only inside a
    # quoted operand; quoted, each is matched as itself.
    for code, found in (("`id`|sh", [promotion]), ("a*b_c", [promotion]), ("' OR '1'='1", []), ("a%", []), ("a*", []), ("a_b_c", [])):
        quoted = '"' + code.replace("\\", "\\\\").replace('"', '\\"') + '"'
        page = _ok(client.get("/v2/promotions", params={"filter": f"eq(code,{quoted})"}, headers=moltin), 200)
        assert [p["id"] for p in page["data"]] == found, code
    unquoted = client.get("/v2/promotions", params={"filter": "eq(code,`id`|sh)"}, headers=moltin)
    assert (unquoted.status_code, unquoted.json()) == (
        400, {"errors": [{"status": 400, "title": "Bad Request", "detail": "Could not parse the supplied filter"}]}
    )


def test_unknown_fields_are_ignored_and_never_stored(client, store) -> None:
    ti = {"Authorization": f"Bearer {TI_KEY}"}
    mine = "id-of-my-choosing"
    extra = {"id": mine, "redeemedCodesCount": 999, "uploaded": True, "__proto__": {"isAdmin": True}, "isAdmin": True}
    group = _ok(client.post("/incoming/v2/redemptionCodes", json={**GROUP, **extra}, headers=ti), 201)
    assert group["id"] != mine and group["redeemedCodesCount"] == 0
    read = _ok(client.get(f"/incoming/v2/redemptionCodes/{group['id']}", headers=ti), 200)
    assert (read["redeemedCodesCount"], read["uploaded"]) == (0, False)
    form = {"grant_type": "client_credentials", "client_id": STORE, "client_secret": "s"}
    moltin = {"Authorization": f"Bearer {_ok(client.post('/oauth/access_token', data=form), 200)['access_token']}"}
    data = {**PROMOTION["data"], "id": mine, "created_at": "1999-01-01T00:00:00Z", "isAdmin": True}
    promotion = _ok(client.post("/v2/promotions", json={"data": data}, headers=moltin), 201)["data"]
    assert promotion["id"] != mine and promotion["created_at"] != "1999-01-01T00:00:00Z"
    stored = str(snapshots.export(store, tenant_keys.ti(TI_KEY), tenant_keys.moltin(TI_KEY))) + str(snapshots.export(store, tenant_keys.ti(STORE), tenant_keys.moltin(STORE)))
    assert "isAdmin" not in stored and mine not in stored and "1999" not in stored


def test_a_pathological_glob_holds_up_nothing(client) -> None:
    """A fault rule is matched against every vendor request, a journal filter against every
    entry: a pattern a backtracking matcher takes hours over must not stop the server."""
    pattern = "/**" + "a**" * 30 + "x"
    _ok(client.post(f"{CONTROL}/faults", json={"path": pattern, "status": 503}), 201)
    started = time.monotonic()
    response = client.get("/incoming/v2/redemptionCodes/" + "a" * 5_000, headers={"Authorization": f"Bearer {TI_KEY}"})
    assert response.status_code == 404
    assert _ok(client.get(f"{CONTROL}/journal", params={"path": pattern}), 200) == {"entries": []}
    assert time.monotonic() - started < 2


# Over a real socket --------------------------------------------------------------------------

ONE_MB = 1 << 20


@dataclass
class Answer:
    status: int | None  # None: the connection closed (or was reset) without an answer
    headers: httpx.Headers
    body: bytes


def exchange(port: int, data: bytes, *, shutdown: bool = False, timeout: float = 10, body_after: bytes = b"") -> Answer:
    """Send `data` (then `body_after` from a thread, ignoring a server that stops reading) and
    read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sender = None
        if body_after:
            sender = threading.Thread(target=_send_quietly, args=(sock, body_after), daemon=True)
            sender.start()
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        if sender:
            sender.join(timeout)
    return parse_answer(received)


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        for start in range(0, len(data), ONE_MB):
            sock.sendall(data[start : start + ONE_MB])
    except OSError:
        pass  # the server answered and closed before reading it all


def parse_answer(received: bytes) -> Answer:
    if not received:
        return Answer(None, httpx.Headers(), b"")
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = httpx.Headers([tuple(part.strip() for part in line.split(b":", 1)) for line in lines[1:]])
    return Answer(status, headers, body)


def http(method: str, path: str, headers: list[tuple[bytes, bytes]] = (), body: bytes = b"", *, length: bool = True) -> bytes:
    lines = [method.encode() + b" " + (path.encode() if isinstance(path, str) else path) + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if length and body and not any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# uvicorn refuses what is not HTTP before the app sees it, with a plain-text 400, as the
# vendors' load balancers would answer it (their applications never see it either).
PROTOCOL_400 = "protocol"


@dataclass(frozen=True)
class Wire:
    name: str
    expect: int | str  # a status in the path's vendor shape, PROTOCOL_400, or "400-or-closed"
    send: object  # (State) -> bytes, or (State) -> dict of exchange() arguments
    path: str = "/incoming/v2/ping"  # for the shape of the answer


def _auth(value: str | bytes) -> tuple[bytes, bytes]:
    return (b"Authorization", value if isinstance(value, bytes) else value.encode())


def _json_ct() -> tuple[bytes, bytes]:
    return (b"Content-Type", b"application/json")


GROUP_JSON = httpx.Request("POST", "http://x", json=GROUP).content
PROMOTION_JSON = httpx.Request("POST", "http://x", json=PROMOTION).content


def _wire_cases() -> list[Wire]:
    ti = lambda s: _auth(f"Bearer {s.ti_key}")  # noqa: E731
    mo = lambda s: _auth(f"Bearer {s.token}")  # noqa: E731
    admin = lambda s: _auth(f"Bearer {s.admin}")  # noqa: E731
    huge = b"Bearer " + b"k" * ONE_MB
    create = "/incoming/v2/redemptionCodes"
    return [
        # Header values and request lines that are not HTTP.
        Wire("nul-in-authorization", PROTOCOL_400, lambda s: http("GET", "/incoming/v2/ping", [_auth(b"Bearer ti\x00key")])),
        Wire("nul-in-path", PROTOCOL_400, lambda s: http("GET", b"/incoming/v2/ping\x00", [ti(s)])),
        Wire("invalid-utf8-in-path", PROTOCOL_400, lambda s: http("GET", b"/incoming/v2/redemptionCodes/\xff\xfe", [ti(s)])),
        Wire("control-character-in-method", PROTOCOL_400, lambda s: http("G\x01T", "/incoming/v2/ping", [ti(s)])),
        Wire("content-length-not-a-number", PROTOCOL_400, lambda s: http("POST", create, [ti(s), _json_ct(), (b"Content-Length", b"abc")], GROUP_JSON)),
        Wire("content-length-twice", PROTOCOL_400, lambda s: http("POST", create, [ti(s), _json_ct(), (b"Content-Length", b"2"), (b"Content-Length", b"3")], b"{}")),
        Wire(
            "content-length-and-chunked",
            PROTOCOL_400,
            lambda s: http("POST", create, [ti(s), _json_ct(), (b"Content-Length", b"5"), (b"Transfer-Encoding", b"chunked")], b"0\r\n\r\n"),
        ),
        # Invalid UTF-8 in header values the app reads.
        Wire("invalid-utf8-token", 401, lambda s: http("GET", "/v2/promotions", [_auth(b"Bearer \xff\xfe\xfd")]), "/v2/promotions"),
        Wire("invalid-utf8-admin-token", 401, lambda s: http("POST", f"{CONTROL}/reset", [_auth(b"Bearer \xff" + s.admin.encode())]), CONTROL),
        Wire("invalid-utf8-content-type", 415, lambda s: http("POST", create, [ti(s), (b"Content-Type", b"application/json\xff")], GROUP_JSON), create),
        # Several Authorization headers, and a huge one.
        Wire("two-authorizations-ti", 401, lambda s: http("POST", create, [ti(s), ti(s), _json_ct()], GROUP_JSON), create),
        Wire("two-authorizations-moltin", 401, lambda s: http("POST", "/v2/promotions", [_auth("Bearer x"), mo(s), _json_ct()], PROMOTION_JSON), "/v2/promotions"),
        Wire("two-authorizations-control", 401, lambda s: http("POST", f"{CONTROL}/reset", [_auth("Bearer x"), admin(s)]), CONTROL),
        Wire("one-MB-authorization-ti", 401, lambda s: http("POST", create, [_auth(huge), _json_ct()], GROUP_JSON), create),
        Wire("one-MB-authorization-moltin", 401, lambda s: http("GET", "/v2/promotions", [_auth(huge)]), "/v2/promotions"),
        Wire("one-MB-authorization-control", 401, lambda s: http("POST", f"{CONTROL}/reset", [_auth(huge)]), CONTROL),
        # Bodies: 10 MB declared or streamed, and bodies that stop short.
        Wire("ten-MB-declared", 413, lambda s: http("POST", create, [ti(s), _json_ct(), (b"Content-Length", str(10 * ONE_MB).encode())]), create),
        Wire(
            "ten-MB-declared-and-sent",
            413,
            lambda s: {"data": http("POST", "/v2/promotions", [mo(s), _json_ct(), (b"Content-Length", str(10 * ONE_MB).encode())]), "body_after": b"[" * (10 * ONE_MB)},
            "/v2/promotions",
        ),
        Wire(
            "ten-MB-chunked",
            "413-or-closed",
            lambda s: {
                "data": http("POST", f"/v2/promotions/{s.promotion}/codes", [mo(s), _json_ct(), (b"Transfer-Encoding", b"chunked")]),
                "body_after": (b"100000\r\n" + b" " * ONE_MB + b"\r\n") * 10 + b"0\r\n\r\n",
            },
            "/v2/promotions",
        ),
        Wire(
            "body-shorter-than-content-length",
            "400-or-closed",
            lambda s: {"data": http("POST", create, [ti(s), _json_ct(), (b"Content-Length", b"1000")], GROUP_JSON[:50]), "shutdown": True},
            create,
        ),
        Wire(
            "chunked-body-cut-off",
            "400-or-closed",
            lambda s: {"data": http("POST", create, [ti(s), _json_ct(), (b"Transfer-Encoding", b"chunked")], b"32\r\n" + GROUP_JSON[:20]), "shutdown": True},
            create,
        ),
        # `../` and encoded slashes in paths.
        Wire("dot-dot-into-the-control-plane", 404, lambda s: http("POST", "/incoming/v2/../../__codestand/reset", [admin(s)])),
        Wire("encoded-dot-dot-into-the-control-plane", 404, lambda s: http("POST", "/incoming/v2/..%2F..%2F__codestand%2Freset", [admin(s)])),
        Wire("dot-dot-as-tenant", 400, lambda s: http("GET", f"{CONTROL}/tenants/../snapshot", [admin(s)]), CONTROL),
        Wire("dot-as-tenant", 400, lambda s: http("POST", f"{CONTROL}/tenants/./reset", [admin(s), (b"X-Codestand", b"1")]), CONTROL),
        # What a page of another site makes a browser send (issue 16): refused, nothing reset.
        Wire("cross-site-reset", 403, lambda s: http("POST", f"{CONTROL}/reset", [admin(s), (b"Content-Type", b"text/plain"), (b"Origin", b"http://evil.example")], b"x"), CONTROL),
        Wire("second-host-header", 400, lambda s: http("GET", f"{CONTROL}/journal", [admin(s), (b"Host", b"evil.example")]), CONTROL),
        Wire("dot-dot-as-group-id", 404, lambda s: http("GET", "/incoming/v2/redemptionCodes/..", [ti(s)])),
        Wire("dot-dot-between-segments", 404, lambda s: http("GET", f"/incoming/v2/redemptionCodes/{s.group}/../../ping", [ti(s)])),
        Wire("encoded-slash-before-an-id", 404, lambda s: http("GET", f"/incoming/v2/redemptionCodes%2F{s.group}", [ti(s)])),
        Wire(
            "encoded-slash-into-another-operation",
            404,
            lambda s: http("DELETE", f"/v2/promotions/{s.promotion}%2Fcodes%2F{s.codes[1]}", [mo(s)]),
            "/v2/promotions",
        ),
        Wire(
            "encoded-dot-dot-slash-in-an-id",
            404,
            lambda s: http("GET", "/v2/promotions/..%2F..%2Fincoming%2Fv2%2Fping", [mo(s)]),
            "/v2/promotions",
        ),
        Wire(
            "lowercase-encoded-slash-in-a-tenant",
            404,
            lambda s: http("GET", f"{CONTROL}/tenants/x%2f..%2f{s.ti_key}/snapshot", [admin(s)]),
            CONTROL,
        ),
        Wire("encoded-nul-as-group-id", 404, lambda s: http("GET", "/incoming/v2/redemptionCodes/%00", [ti(s)])),
        Wire("8-KB-path", 404, lambda s: http("GET", "/incoming/v2/redemptionCodes/" + "a" * 8_000, [ti(s)])),
        Wire("100-KB-path", PROTOCOL_400, lambda s: http("GET", "/incoming/v2/redemptionCodes/" + "a" * 100_000, [ti(s)])),
    ]


WIRE = _wire_cases()


@dataclass
class Live:
    server: Server
    state: State
    admin: dict[str, str]

    def reseed(self) -> None:
        """Back to the seeded state, after a case that changed it."""
        with httpx.Client(base_url=self.server.url, headers=self.admin, timeout=10) as client:
            _ok(client.post(f"{CONTROL}/reset", headers={"X-Codestand": "1"}), 204)
            _ok(client.delete(f"{CONTROL}/faults"), 204)
            _ok(client.put(f"{CONTROL}/clock", json={"now": NOW.isoformat(), "frozen": True}), 200)
            self.state = seed(client)


@pytest.fixture(scope="module", params=TEST_STORES)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp(f"hostile-live-{request.param}")
    args = ["--admin-token", ADMIN, "--journal-size", "100000"]
    if request.param == "sqlite":
        args += ["--storage", f"sqlite:{folder / 'codestand.sqlite'}"]
    elif request.param == "postgresql":
        cluster = request.getfixturevalue("postgres")
        args += ["--storage", cluster.create_database(f"hostile_{uuid.uuid4().hex[:12]}")]
    server = Server(folder / "serve.log", *args)
    with server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            _ok(client.put(f"{CONTROL}/clock", json={"now": NOW.isoformat(), "frozen": True}, headers={"Authorization": f"Bearer {ADMIN}"}), 200)
            state = seed(client)
        yield Live(server, state, {"Authorization": f"Bearer {ADMIN}"})
        assert server.stop() == 0
        log = server.log()
        assert not re.search(r"Traceback|Exception in ASGI|ERROR", log), log[-5000:]


def live_dump(live: Live) -> dict:
    """The seeded tenants, the clock and the fault rules; the journal's ids, which may only grow."""
    with httpx.Client(base_url=live.server.url, headers=live.admin, timeout=10) as client:
        state = {
            path: _ok(client.get(path), 200)
            for path in (
                f"{CONTROL}/tenants/{TI_KEY}/snapshot",
                f"{CONTROL}/tenants/{STORE}/snapshot",
                f"{CONTROL}/clock",
                f"{CONTROL}/faults",
            )
        }
        state["journal"] = {e["id"] for e in _ok(client.get(f"{CONTROL}/journal", params={"limit": 100_000}), 200)["entries"]}
        return state


@pytest.mark.parametrize("wire", WIRE, ids=[w.name for w in WIRE])
def test_hostile_bytes_on_the_wire_are_refused_and_the_server_stays_up(live: Live, wire: Wire) -> None:
    before = live_dump(live)
    sent = wire.send(live.state)
    arguments = sent if isinstance(sent, dict) else {"data": sent}
    answer = exchange(live.server.port, **arguments)
    try:
        if wire.expect == PROTOCOL_400:
            assert (answer.status, answer.body) == (400, b"Invalid HTTP request received."), answer
        elif isinstance(wire.expect, str):
            allowed = int(wire.expect.split("-")[0])
            if answer.status is not None:
                check_answer(Case(OPS["ping"], wire.name, allowed), wire.path, answer.status, answer.headers, answer.body)
        else:
            check_answer(Case(OPS["ping"], wire.name, wire.expect), wire.path, answer.status, answer.headers, answer.body)
        # Still up, and nothing changed.
        assert httpx.get(f"{live.server.url}{CONTROL}/health", headers=live.admin, timeout=10).status_code == 200
    finally:
        after = live_dump(live)
        journal_kept = before.pop("journal") <= after.pop("journal")
        if after != before or not journal_kept:
            live.reseed()
    assert journal_kept, "the journal lost entries"
    assert after == before


def test_a_stalled_body_holds_up_no_one_else(live: Live) -> None:
    """A client that sends half its body and waits does not stop the server answering others."""
    with socket.create_connection(("127.0.0.1", live.server.port), timeout=10) as stalled:
        stalled.sendall(http("POST", "/incoming/v2/redemptionCodes", [_auth(f"Bearer {TI_KEY}"), _json_ct(), (b"Content-Length", b"1000")], GROUP_JSON[:50]))
        started = time.monotonic()
        response = httpx.get(f"{live.server.url}/incoming/v2/ping", headers={"Authorization": f"Bearer {TI_KEY}"}, timeout=10)
        assert response.status_code == 200
        assert time.monotonic() - started < 2
