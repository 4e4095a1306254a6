"""Keys, instances and roles (vendor page "Authentication": "Each key is scoped to a single
instance and carries the permissions of the role you assign"; "Status codes": 403 "check the role
assigned to your API key"), declared with `--ti-keys`."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.settings import Settings
from codestand.storage.memory import MemoryStorage
from codestand.thoughtindustries.keys import KeysError, load
from tests.live import free_port, run_cli

URL = "/incoming/v2/redemptionCodes"
COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
BODY = {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 2, "courses": [COURSE]}
ADMIN, READER, OTHER = "ti_live_a1b2c3d4e5f6g7h8i9j0", "ti_test_reader000000000000", "ti_live_other0000000000000"
KEYS = f"""
keys:
  - key: {ADMIN}
    instance: acme
    role: admin
    plan: enterprise
  - key: {READER}
    instance: acme
    role: reader
  - key: {OTHER}
    instance: globex
"""


@pytest.fixture
def http(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text(KEYS)
    with TestClient(create_app(Settings(access_log=False, ti_keys=path), store=MemoryStorage())) as client:
        yield client


def as_key(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_keys_of_one_instance_share_its_groups(http):
    created = http.post(URL, json=BODY, headers=as_key(ADMIN))
    assert created.status_code == 201
    group = created.json()
    listed = http.get(URL, headers=as_key(READER)).json()["redemptionCodeGroups"]
    assert [g["id"] for g in listed] == [group["id"]]
    assert http.get(f"{URL}/{group['id']}", headers=as_key(OTHER)).status_code == 404
    # The instance is the tenant the control plane names.
    assert len(http.get(f"/__codestand/tenants/acme/redemption-code-groups/{group['id']}/codes").json()["codes"]) == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    # The role is checked with the key, before the body is: a reader's bad body is a 403 too.
    [("POST", URL, BODY), ("POST", URL, {})],
    ids=["create", "create-bad-body"],
)
def test_a_role_that_may_not_gets_403_in_the_vendors_shape(http, method, path, body):
    response = http.request(method, path, json=body, headers=as_key(READER))
    assert (response.status_code, response.json()) == (
        403, {"errors": [f"The role reader assigned to this API key does not allow {method} {path}."]}
    )
    assert response.headers["content-type"] == "application/json"
    assert http.get(URL, headers=as_key(READER)).json()["pageInfo"]["total"] == 0


@pytest.mark.parametrize("path", ["/incoming/v2/ping", URL, "/incoming/v2/events/redemptionCodeRedeem"])
def test_a_reader_may_read(http, path):
    assert http.get(path, headers=as_key(READER)).status_code == 200


@pytest.mark.parametrize("key", ["undeclared", "ti_live_", ADMIN + "x"])
def test_an_undeclared_key_is_401_with_an_empty_body(http, key):
    response = http.get("/incoming/v2/ping", headers=as_key(key))
    assert (response.status_code, response.content) == (401, b"")


def test_a_keys_plan_sets_its_rate_limit(http):
    assert http.get("/incoming/v2/ping", headers=as_key(ADMIN)).headers["x-ratelimit-limit"] == "600"
    assert http.get("/incoming/v2/ping", headers=as_key(READER)).headers["x-ratelimit-limit"] == "120"


def test_without_a_keys_file_prefixed_keys_name_their_own_instance(client):
    for key in (ADMIN, READER):
        assert client.post(URL, json=BODY, headers=as_key(key)).status_code == 201
        assert client.get(URL, headers=as_key(key)).json()["pageInfo"]["total"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keys: 3", "needs a list under `keys`"),
        ("keys: [{instance: a}]", "keys[0] needs a non-empty string `key`"),
        ("keys: [{key: k, role: owner}]", "keys[0].role must be one of admin, reader"),
        ("keys: [{key: k, plan: gold}]", "keys[0].plan must be one of standard, enterprise"),
        ("keys: [{key: k}, {key: k}]", "keys[1] repeats a key"),
        ("keys: [", "cannot read keys file"),
    ],
)
def test_a_bad_keys_file_is_refused_saying_why(tmp_path, text, message):
    path = tmp_path / "keys.yaml"
    path.write_text(text)
    with pytest.raises(KeysError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(path)


def test_a_json_keys_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"key": "k1", "instance": "i"}]}))
    assert load(path)["k1"].instance == "i"


def test_the_cli_reports_a_bad_keys_file(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("keys: 3")
    done = run_cli("serve", "--port", str(free_port()), "--ti-keys", str(path))
    assert done.returncode == 1
    assert "needs a list under `keys`" in done.stderr
