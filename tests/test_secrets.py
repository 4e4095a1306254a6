"""No secret leaves the stand-in: not in its log, its journal, an error body or a snapshot.

A real `codestand serve` (logging every request) runs with a Thought Industries key, a Moltin
client and an admin token. One session calls every operation of both contracts and of the
control plane, right and wrong: missing, wrong and misplaced credentials (each secret where
another one belongs), malformed and refused requests, forced faults, a dropped connection, and
the control plane addressing the Thought Industries tenant by its key as documented. Then the
server's whole log, the whole journal, every error body and every tenant's snapshot are searched
for the key, the client secret, each access token issued and the admin token.
"""

from __future__ import annotations

import secrets
import signal

import httpx
import pytest

from codestand import spec
from codestand.core.redaction import fingerprint
from tests.live import Server
from tests.samples import COURSE, GROUP, PROMOTION

KEY = f"ti-key-{secrets.token_hex(16)}"
CLIENT = f"store-{secrets.token_hex(4)}"
SECRET = f"client-secret-{secrets.token_hex(16)}"
ADMIN = f"admin-token-{secrets.token_hex(16)}"


def operations(name: str) -> set[str]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {f"{m.upper()} {path}" for path, item in spec.load(name)["paths"].items() for m in item if m in methods}


class Session:
    """Calls the server and keeps what the searches need: the operations called, every error
    body, every access token issued."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)
        self.called: set[str] = set()
        self.errors: list[str] = []
        self.snapshots: list[str] = []
        self.tokens: list[str] = []

    def call(self, operation: str | None, method: str, path: str, *, headers=None, **kwargs) -> httpx.Response:
        if operation is not None:
            self.called.add(operation)
        response = self.http.request(method, path, headers=headers or {}, **kwargs)
        if method == "GET" and path.endswith("/snapshot") and response.status_code == 200:
            self.snapshots.append(response.text)
        if response.status_code >= 400:
            # What the server sent: headers and body (not the request's own path).
            self.errors.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    def vendor(self, operation: str, path: str | None = None, *, auth: str | None = None, **kwargs) -> httpx.Response:
        method, template = operation.split(" ", 1)
        headers = {**kwargs.pop("headers", {}), **({"Authorization": auth} if auth is not None else {})}
        return self.call(operation, method, path or template, headers=headers, **kwargs)

    def control(self, operation: str, path: str | None = None, *, token: str | None = ADMIN, **kwargs) -> httpx.Response:
        method, template = operation.split(" ", 1)
        headers = {"Authorization": f"Bearer {token}", "X-Codestand": "1"} if token is not None else {}
        return self.call(operation, method, f"/__codestand{path or template}", headers=headers, **kwargs)

    def token(self, form: dict, **kwargs) -> httpx.Response:
        response = self.vendor("POST /oauth/access_token", data=form, **kwargs)
        if response.status_code == 200:
            self.tokens.append(response.json()["access_token"])
        return response


def cc(client_id: str = CLIENT, secret: str = SECRET) -> dict:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def drive(s: Session) -> None:
    """Every operation, with right and wrong credentials and requests."""
    ti = f"Bearer {KEY}"
    s.control("DELETE /journal")  # empty already: the journal is read whole at the end
    s.control("DELETE /journal", token=SECRET)
    # Moltin's token endpoint: right, wrong, and the secret where it does not belong.
    assert s.token(cc()).status_code == 200
    assert s.token({"grant_type": "implicit", "client_id": CLIENT}).status_code == 200
    assert s.token(cc(secret=SECRET + "x")).status_code == 401
    assert s.token(cc(secret=KEY)).status_code == 401
    assert s.token(cc(client_id="nobody")).status_code == 401
    assert s.token(cc(client_id=CLIENT, secret=SECRET * 10)).status_code == 400
    assert s.token({"grant_type": "password", "client_id": CLIENT, "client_secret": SECRET}).status_code == 400
    assert s.token({"grant_type": "client_credentials", "client_id": CLIENT}).status_code == 400
    s.vendor("POST /oauth/access_token", json=cc())
    s.vendor("POST /oauth/access_token", content=f"client_secret={SECRET}&client_id={CLIENT}&grant_type=client_credentials&pad={'x' * 9000}",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    s.vendor("POST /oauth/access_token", f"/oauth/access_token?client_secret={SECRET}", data=cc())
    s.vendor("POST /oauth/access_token", content=f'{{"client_secret": "{SECRET}", "grant_type": ', headers={"Content-Type": "application/json"})
    s.vendor("POST /oauth/access_token", auth=f"Basic {SECRET}", data={"grant_type": "client_credentials", "client_id": CLIENT})
    token, implicit = s.tokens
    moltin = f"Bearer {token}"

    # Thought Industries, with the key and with every other secret in its place.
    for auth in (ti, None, f"Bearer {KEY}x", f"Bearer: {KEY}", f"Basic {KEY}", KEY, f"Bearer {ADMIN}", f"Bearer {token}", f"Bearer {SECRET}"):
        s.vendor("GET /incoming/v2/ping", auth=auth)
        s.vendor("GET /incoming/v2/redemptionCodes", auth=auth)
    group = s.vendor("POST /incoming/v2/redemptionCodes", auth=ti, json=GROUP).json()
    s.vendor("POST /incoming/v2/redemptionCodes", auth=ti, json={"label": "", "codeLength": "eight"})
    s.vendor("POST /incoming/v2/redemptionCodes", auth=ti, content=b"{not json", headers={"Content-Type": "application/json"})
    s.vendor("POST /incoming/v2/redemptionCodes", auth=ti, content=b"label=x", headers={"Content-Type": "text/plain"})
    s.vendor("POST /incoming/v2/redemptionCodes", auth=f"Bearer {ADMIN}", json=GROUP)
    s.vendor("GET /incoming/v2/redemptionCodes", "/incoming/v2/redemptionCodes?cursor=bogus&sort=nothing:up", auth=ti)
    s.vendor("GET /incoming/v2/redemptionCodes/{id}", f"/incoming/v2/redemptionCodes/{group['id']}", auth=ti)
    s.vendor("GET /incoming/v2/redemptionCodes/{id}", "/incoming/v2/redemptionCodes/no-such-group", auth=ti)
    s.vendor("GET /incoming/v2/redemptionCodes/{id}", f"/incoming/v2/redemptionCodes/{group['id']}", auth=ti, headers={"Prefer": "code=404"})
    s.vendor("GET /incoming/v2/events/redemptionCodeRedeem", auth=ti)
    s.vendor("GET /incoming/v2/events/redemptionCodeRedeem", "/incoming/v2/events/redemptionCodeRedeem?startDate=yesterday", auth=ti)
    s.call(None, "GET", "/incoming/v2/nothing", headers={"Authorization": ti})
    s.call(None, "DELETE", "/incoming/v2/redemptionCodes", headers={"Authorization": ti})

    # Moltin, with the token and with every other secret in its place.
    for auth in (moltin, f"Bearer: {token}", None, f"Bearer {implicit}", f"Bearer {token}x", f"Bearer {KEY}", f"Bearer {SECRET}", f"Bearer {ADMIN}"):
        s.vendor("GET /v2/promotions", auth=auth)
    s.vendor("GET /v2/promotions", f"/v2/promotions?access_token={token}")
    s.vendor("POST /v2/promotions", auth=f"Bearer {implicit}", json=PROMOTION)
    promotion = s.vendor("POST /v2/promotions", auth=moltin, json=PROMOTION).json()["data"]
    s.vendor("POST /v2/promotions", auth=moltin, json={"data": {"type": "promotion", "name": "no dates"}})
    one = f"/v2/promotions/{promotion['id']}"
    s.vendor("GET /v2/promotions/{id}", one, auth=moltin)
    s.vendor("GET /v2/promotions/{id}", "/v2/promotions/missing", auth=moltin)
    s.vendor("PUT /v2/promotions/{id}", one, auth=moltin, json={"data": {"type": "promotion", "name": "Renamed"}})
    s.vendor("PUT /v2/promotions/{id}", one, auth=moltin, json={"data": {"type": "promotion", "end": "2000-01-01"}})
    codes = {"data": {"type": "promotion_codes", "codes": [{"code": "SPRING"}, {"code": "SUMMER", "uses": 2}]}}
    s.vendor("POST /v2/promotions/{id}/codes", f"{one}/codes", auth=moltin, json=codes)
    s.vendor("POST /v2/promotions/{id}/codes", f"{one}/codes", auth=moltin, json=codes)  # 409
    s.vendor("GET /v2/promotions/{id}/codes", f"{one}/codes", auth=moltin)
    s.vendor("GET /v2/promotions/{id}/codes", f"{one}/codes?page[limit]=0", auth=moltin)
    s.vendor("DELETE /v2/promotions/{id}/codes/{code}", f"{one}/codes/NOPE", auth=moltin)
    s.vendor("DELETE /v2/promotions/{id}/codes/{code}", f"{one}/codes/SPRING", auth=moltin)
    s.vendor("DELETE /v2/promotions/{id}/codes", f"{one}/codes", auth=moltin, json={"data": {"type": "promotion_codes", "codes": [{"code": "X"}]}})
    s.vendor("DELETE /v2/promotions/{id}", "/v2/promotions/missing", auth=moltin)
    s.vendor("GET /v2/promotions/attributes", auth=moltin)
    s.vendor("GET /v2/promotions/{id}/history", f"{one}/history", auth=moltin)
    s.control("PUT /moltin/tenants/{tenant}/promotion-jobs-hold", f"/moltin/tenants/{CLIENT}/promotion-jobs-hold", json={"hold": False})
    job = s.vendor("POST /v2/promotions/{id}/jobs", f"{one}/jobs", auth=moltin, json={"job_type": "code_export"}).json()["data"]
    s.vendor("POST /v2/promotions/{id}/jobs", f"{one}/jobs", auth=moltin, json={"job_type": "nothing"})
    s.vendor("GET /v2/promotions/{id}/jobs", f"{one}/jobs", auth=moltin)
    s.vendor("GET /v2/promotions/{id}/jobs/{jobId}/file", f"{one}/jobs/{job['id']}/file", auth=moltin)
    s.vendor("GET /v2/promotions/{id}/jobs/{jobId}/codes.csv", f"{one}/jobs/{job['id']}/codes.csv", auth=moltin)
    s.vendor("POST /v2/promotions/{id}/jobs/{jobId}/cancel", f"{one}/jobs/{job['id']}/cancel", auth=moltin)
    s.call(None, "PATCH", "/v2/promotions", headers={"Authorization": moltin})
    s.call(None, "GET", "/v2/nothing", headers={"Authorization": moltin})
    s.call(None, "POST", "/v2/promotions", headers={"Authorization": moltin, "Content-Type": "application/json"}, content=b"x" * 2_000_000)

    # The control plane: without the token, with a wrong one (another secret), then with it.
    for token_given in (None, SECRET, KEY, token, ADMIN + "x"):
        s.control("GET /journal", token=token_given)
        s.control("GET /tenants/{tenant}/snapshot", f"/tenants/{KEY}/snapshot", token=token_given)
    s.call(None, "GET", "/__codestand/openapi.json")
    s.call(None, "GET", "/__codestand/ui/", headers={"Authorization": f"Bearer {ADMIN}"})
    s.call(None, "GET", "/__codestand/openapi.json", headers={"Authorization": f"Bearer {ADMIN}"})
    s.control("GET /health")
    s.control("GET /metrics")
    for tenant in (KEY, CLIENT):
        s.control("GET /tenants/{tenant}/catalog", f"/tenants/{tenant}/catalog")
        s.control("POST /tenants/{tenant}/catalog", f"/tenants/{tenant}/catalog", json={"courses": [{"id": COURSE, "title": "Mine"}]})
        s.control("PUT /tenants/{tenant}/catalog", f"/tenants/{tenant}/catalog", json={"courses": [{"id": "not a uuid"}]})
    codes_path = f"/tenants/{KEY}/redemption-code-groups/{group['id']}/codes"
    generated = s.control("GET /tenants/{tenant}/redemption-code-groups/{id}/codes", codes_path).json()["codes"]
    s.control("GET /tenants/{tenant}/redemption-code-groups/{id}/codes", f"{codes_path}?format=csv")
    s.control("GET /tenants/{tenant}/redemption-code-groups/{id}/codes", f"/tenants/{KEY}/redemption-code-groups/missing/codes")
    s.control("POST /tenants/{tenant}/redemptions", f"/tenants/{KEY}/redemptions", json={"code": generated[0]["code"], "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})
    s.control("POST /tenants/{tenant}/redemptions", f"/tenants/{KEY}/redemptions", json={"code": generated[0]["code"], "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})
    s.control("POST /tenants/{tenant}/redemptions", f"/tenants/{KEY}/redemptions", json={"code": "nosuchcode", "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})
    s.control("POST /tenants/{tenant}/promotion-code-uses", f"/tenants/{CLIENT}/promotion-code-uses", json={"code": "SUMMER"})
    s.control("POST /tenants/{tenant}/promotion-code-uses", f"/tenants/{CLIENT}/promotion-code-uses", json={"code": "NOPE"})
    usages = s.vendor("GET /v2/promotions/{id}/usages", f"{one}/usages", auth=moltin).json()["data"]
    s.vendor("GET /v2/promotions/{id}/codes/{code}/usages", f"{one}/codes/SUMMER/usages", auth=moltin)
    s.vendor("POST /v2/promotions/usages/anonymize", auth=moltin, json={"data": {"usage_ids": [u["id"] for u in usages] + ["nope"]}})
    # The admin UI's uploads, added codes, gift groups and rate limits, by either route.
    for route, tenant_path in (("/tenants/{tenant}", f"/tenants/{KEY}"), ("/thoughtindustries/tenants/{tenant}", f"/thoughtindustries/tenants/{KEY}")):
        admin_groups = f"{tenant_path}/redemption-code-groups"
        own = ["own-1"] if route.startswith("/tenants") else ["own-2"]
        uploaded = s.control(f"POST {route}/redemption-code-groups", admin_groups, json={"label": "Own", "courses": [COURSE], "codes": own}).json()
        s.control(f"POST {route}/redemption-code-groups", admin_groups, json={"label": "Own", "courses": [COURSE], "codes": ["NOT OURS!"]})
        s.control(f"POST {route}/redemption-code-groups/{{id}}/added-codes", f"{admin_groups}/{uploaded['id']}/added-codes", json={"count": 1})
        s.control(f"PUT {route}/redemption-code-groups/{{id}}/gift", f"{admin_groups}/{uploaded['id']}/gift", json={"gift": True})
        s.control(f"DELETE {route}/redemption-code-groups/{{id}}", f"{admin_groups}/{uploaded['id']}")
        s.control(f"GET {route}/rate-limits", f"{tenant_path}/rate-limits")
        s.control(f"PUT {route}/rate-limits", f"{tenant_path}/rate-limits", json={"enforced": True})
    s.control("GET /moltin/tenants/{tenant}/rate-limits", f"/moltin/tenants/{CLIENT}/rate-limits")
    s.control("PUT /moltin/tenants/{tenant}/rate-limits", f"/moltin/tenants/{CLIENT}/rate-limits", json={"store_kind": "production"})
    for tenant in (KEY, CLIENT):
        snapshot = s.control("GET /tenants/{tenant}/snapshot", f"/tenants/{tenant}/snapshot").json()
        s.control("PUT /tenants/{tenant}/snapshot", f"/tenants/{tenant}/snapshot", json=snapshot)
        s.control("PUT /tenants/{tenant}/snapshot", f"/tenants/{tenant}/snapshot", json={**snapshot, "version": 99})
    s.control("GET /journal", f"/journal?tenant={KEY}")
    s.control("GET /journal", "/journal?status=teapot")
    s.control("GET /clock")
    s.control("PUT /clock", json={"now": "2020-01-01T00:00:00Z", "frozen": True})
    s.control("POST /clock/advance", json={"seconds": 60})
    s.control("POST /clock/advance", json={"seconds": "soon"})
    s.control("DELETE /clock")

    # Faults: a forced status, a forced 401 and a dropped connection, each with a credential on it.
    s.control("GET /faults")
    s.control("POST /faults", json={"path": "/incoming/v2/ping", "status": 503, "count": 1})
    s.control("POST /faults", json={"path": "/v2/promotions", "method": "GET", "status": 401, "count": 1})
    s.control("POST /faults", json={"path": "/oauth/access_token", "drop": True, "count": 1})
    s.control("POST /faults", json={"path": "relative", "status": 999})
    s.vendor("GET /incoming/v2/ping", auth=ti)
    s.vendor("GET /v2/promotions", auth=moltin)
    with pytest.raises(httpx.RemoteProtocolError):
        s.token(cc())
    s.control("DELETE /faults/{id}", "/faults/1")
    s.control("DELETE /faults/{id}", "/faults/999")
    s.control("DELETE /faults")

    # The routes naming the vendor, with the key and the client in their paths.
    ti_route, mo = "/thoughtindustries/tenants/{tenant}", "/moltin/tenants/{tenant}"
    s.control(f"GET {ti_route}/catalog", f"/thoughtindustries/tenants/{KEY}/catalog")
    s.control(f"POST {ti_route}/catalog", f"/thoughtindustries/tenants/{KEY}/catalog", json={"courses": [{"id": COURSE, "title": "Mine"}]})
    s.control(f"PUT {ti_route}/catalog", f"/thoughtindustries/tenants/{KEY}/catalog", json={"courses": [{"id": COURSE, "title": "Mine"}]})
    s.control(f"GET {ti_route}/redemption-code-groups/{{id}}/codes", f"/thoughtindustries{codes_path}")
    s.control(f"POST {ti_route}/redemptions", f"/thoughtindustries/tenants/{KEY}/redemptions", json={"code": generated[1]["code"], "userId": "5f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e21"})
    ti_snapshot = s.control(f"GET {ti_route}/snapshot", f"/thoughtindustries/tenants/{KEY}/snapshot").json()
    s.control(f"PUT {ti_route}/snapshot", f"/thoughtindustries/tenants/{KEY}/snapshot", json=ti_snapshot)
    s.control(f"POST {mo}/promotion-code-uses", f"/moltin/tenants/{CLIENT}/promotion-code-uses", json={"code": "SUMMER"})
    moltin_snapshot = s.control(f"GET {mo}/snapshot", f"/moltin/tenants/{CLIENT}/snapshot").json()
    s.control(f"PUT {mo}/snapshot", f"/moltin/tenants/{CLIENT}/snapshot", json=moltin_snapshot)
    # What is left: deletes and resets (after the snapshots were taken above).
    s.vendor("DELETE /v2/promotions/{id}", one, auth=moltin)
    s.control(f"POST {ti_route}/reset", f"/thoughtindustries/tenants/{KEY}/reset")
    s.control(f"POST {mo}/reset", f"/moltin/tenants/{CLIENT}/reset")
    s.control("POST /tenants/{tenant}/reset", f"/tenants/{KEY}/reset")
    s.control("POST /reset")


@pytest.fixture
def server(tmp_path):
    with Server(tmp_path / "stderr.log", "--ti-api-key", KEY, "--moltin-client", f"{CLIENT}:{SECRET}", "--admin-token", ADMIN) as running:
        yield running


def test_no_secret_in_logs_journal_error_bodies_or_snapshots(server):
    s = Session(server.url)
    drive(s)
    assert s.called == operations("openapi.yaml") | operations("control.yaml")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    # Every tenant's snapshot, taken again now that the session is over.
    # Every tenant's snapshot was taken while it held data (`drive`), by both kinds of route; no
    # tenant holds any now.
    assert len(s.snapshots) == 4 and all('"code"' in snapshot for snapshot in s.snapshots)

    response = s.http.get("/__codestand/journal", headers=admin)
    journal = response.json()["entries"]
    assert len(journal) > 60 and server.stop(signal.SIGTERM) == 0

    places = {
        "the server's log": server.log(),
        "the journal": response.text,
        "an error body": "\n".join(s.errors),
        "a snapshot": "\n".join(s.snapshots),
    }
    assert len(s.tokens) == 2
    # The log has a line for every request, those naming the key's tenant too.
    assert f"GET /__codestand/tenants/{fingerprint(KEY)}/snapshot 200" in places["the server's log"]
    kept = {"the API key": KEY, "the client secret": SECRET, "the admin token": ADMIN, "a token": s.tokens[0], "an implicit token": s.tokens[1]}
    found = [f"{name} in {place}" for name, secret in kept.items() for place, text in places.items() if secret in text]
    assert found == [], found
