"""Hostile requests for every operation of both contracts, and the status each must get.

`operations()` reads the operations from `codestand/openapi.yaml` and `codestand/control.yaml`;
`corpus()` builds the cases: some from what each operation declares (its path and query
parameters, its body, its security), the rest written out per operation below. Every case is
refused with a 4xx: `tests/test_hostile_input.py` sends them, checks the answer's status and
shape, and that nothing stored changed.

Paths are templates: `{id}`, `{code}` and `{tenant}` are filled in at run time with what the
test seeded (a group, a promotion, one of its codes, the tenant), unless a case puts a hostile
value there. Bodies are bytes, or a function of the seeded `State` when they need its ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connexion.json_schema import resolve_refs

from codestand import spec
from tests.samples import COURSE, GROUP, PROMOTION

CONTROL = "/__codestand"
MAX_BODY = 1 << 20
TEN_MB = 10 * MAX_BODY
INT64_MAX = 2**63 - 1
# Bearer credentials the corpus uses besides the seeded ones.
HUGE_CREDENTIAL = "Bearer " + "k" * 65_536
OTHER_CREDENTIAL = "Bearer someone-else"


# Operations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    method: str
    template: str  # the full path, `/__codestand` included for the control plane
    operation_id: str
    media_type: str | None  # of the request body, if the operation takes one
    query: tuple[dict, ...]
    path_params: tuple[str, ...]
    secured: bool  # a vendor credential, or (control plane) the admin token

    @property
    def family(self) -> str:
        """Whose error shape the answer is in: `ti`, `moltin` or `control`."""
        return family_of(self.template)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def short(self) -> str:
        return self.operation_id.rsplit(".", 1)[-1]


def family_of(path: str) -> str:
    if path.startswith(CONTROL):
        return "control"
    if path.startswith(("/v2", "/oauth")):
        return "moltin"
    return "ti"


def operations() -> list[Op]:
    """Every operation of both contracts, in the order they are written."""
    found = []
    for document, base in ((spec.load(), ""), (spec.load("control.yaml"), CONTROL)):
        resolved = resolve_refs(document)
        for template, item in resolved["paths"].items():
            for method in ("get", "put", "post", "delete", "patch"):
                if method not in item:
                    continue
                operation = item[method]
                params = {(p["name"], p["in"]): p for p in item.get("parameters", [])}
                params.update({(p["name"], p["in"]): p for p in operation.get("parameters", [])})
                body = operation.get("requestBody")
                security = operation.get("security", resolved.get("security"))
                found.append(
                    Op(
                        method=method.upper(),
                        template=base + template,
                        operation_id=operation["operationId"],
                        media_type=next(iter(body["content"])) if body else None,
                        query=tuple(p for (_, where), p in params.items() if where == "query"),
                        path_params=tuple(name for name, where in params if where == "path"),
                        secured=base == CONTROL or bool(security),
                    )
                )
    return found


OPS = {op.short: op for op in operations()}


# Cases -------------------------------------------------------------------------------------

VALID = "valid"  # the operation's usual credential
NONE = "none"  # no Authorization header at all

Body = bytes | Callable[["State"], bytes] | None


@dataclass(frozen=True)
class Case:
    op: Op
    name: str
    status: int
    method: str | None = None  # default: the operation's
    path: str | None = None  # default: the operation's template
    params: tuple[tuple[str, str], ...] = ()  # path parameters, URL-encoded, instead of the seeded ones
    query: str = ""  # the raw query string
    body: Body = None
    content_type: str | None = None
    auth: str | tuple[str, ...] = VALID  # VALID, NONE, or the Authorization values to send
    says: str | None = None  # a text the error body must contain
    # More headers. Control requests also carry `X-Codestand: 1` (what test code sends, so that
    # a POST without a JSON body reaches its checks), unless `browser` says they come from a page.
    headers: tuple[tuple[str, str], ...] = ()
    browser: bool = False

    @property
    def id(self) -> str:
        return f"{self.op.short}:{self.name}"


@dataclass
class State:
    """What the test seeded, to fill in paths and bodies."""

    ti_key: str
    group: str
    unredeemed_code: str
    moltin_client: str
    token: str
    promotion: str
    codes: list[str]
    fault: str
    admin: str
    snapshot: dict = field(default_factory=dict)  # the TI tenant's, as exported
    job: str = ""  # a job of the promotion

    def credential(self, family: str) -> str | None:
        return {
            "ti": f"Bearer {self.ti_key}",
            "moltin": f"Bearer {self.token}",
            "control": f"Bearer {self.admin}",
        }[family]

    def path_values(self, op: Op) -> dict[str, str]:
        moltin = op.short == "use_promotion_code" or op.short.startswith("moltin_")
        values = {"tenant": self.moltin_client if moltin else self.ti_key, "code": self.codes[1]}
        if op.template.startswith("/v2/promotions"):
            values["id"] = self.promotion
            values["jobId"] = self.job
        elif op.template.startswith(f"{CONTROL}/faults"):
            values["id"] = self.fault
        else:
            values["id"] = self.group
        return values


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


# A valid body for each operation that takes one: generic mutations start from it, and cases
# that aim at headers or path parameters send it, so that a case the server failed to refuse
# would change something the test sees.
VALID_BODIES: dict[str, Callable[[State], Any]] = {
    "create_group": lambda s: GROUP,
    "access_token": lambda s: {"grant_type": "implicit", "client_id": "hostile-newcomer"},
    "create_promotion": lambda s: PROMOTION,
    "update_promotion": lambda s: {"data": {"type": "promotion", "name": "Renamed"}},
    "add_codes": lambda s: {"data": {"type": "promotion_codes", "codes": [{"code": "FRESH-1"}]}},
    "delete_codes": lambda s: {"data": {"type": "promotion_codes", "codes": [{"code": s.codes[0]}]}},
    "add_catalog": lambda s: {"courses": [{"id": "c-new", "title": "New course"}]},
    "replace_catalog": lambda s: {"courses": [{"id": "c-new", "title": "New course"}]},
    "set_clock": lambda s: {"now": "2031-01-01T00:00:00Z"},
    "advance_clock": lambda s: {"seconds": 60},
    "redeem": lambda s: {"code": s.unredeemed_code, "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"},
    "use_promotion_code": lambda s: {"code": s.codes[1], "user": "shopper-9"},
    "import_snapshot": lambda s: {**s.snapshot, "catalog": {"courses": [{"id": "c-snap", "name": "From a snapshot"}]}},
    "add_fault": lambda s: {"path": "/incoming/v2/ping", "status": 503},
    "create_job": lambda s: {"data": {"type": "promotion_job", "job_type": "code_export"}},
    "moltin_hold_jobs": lambda s: {"hold": False},
    "anonymize_usages": lambda s: {"data": {"usage_ids": ["not-a-usage"]}},
    "upload_group": lambda s: {"label": "Uploaded", "codes": ["hostile-upload-1"], "courses": [GROUP["courses"][0]]},
    "add_group_codes": lambda s: {"count": 1},
    "set_gift": lambda s: {"gift": True},
    "set_rate_limits": lambda s: {"plan": "standard"},
    # The routes naming the vendor's tenant.
    "ti_upload_group": lambda s: {"label": "Uploaded", "codes": ["hostile-upload-2"], "courses": [GROUP["courses"][0]]},
    "ti_add_group_codes": lambda s: {"count": 1},
    "ti_set_gift": lambda s: {"gift": True},
    "ti_set_rate_limits": lambda s: {"plan": "standard"},
    "moltin_set_rate_limits": lambda s: {"store_kind": "development"},
    "ti_add_catalog": lambda s: {"courses": [{"id": "c-new", "title": "New course"}]},
    "ti_replace_catalog": lambda s: {"courses": [{"id": "c-new", "title": "New course"}]},
    "ti_redeem": lambda s: {"code": s.unredeemed_code, "userId": "5f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e29"},
    "moltin_use_code": lambda s: {"code": s.codes[1], "user": "shopper-9"},
    "ti_import_snapshot": lambda s: {**s.snapshot, "catalog": {"courses": [{"id": "c-snap", "name": "From a snapshot"}]}},
    "moltin_import_snapshot": lambda s: {"version": 1, "catalog": {}, "redemptionCodeGroups": [], "redemptions": [], "promotions": []},
}


def valid_body(op: Op) -> Body:
    make = VALID_BODIES[op.short]
    if op.media_type == "application/x-www-form-urlencoded":
        return lambda s: "&".join(f"{k}={v}" for k, v in make(s).items()).encode()
    return lambda s: dumps(make(s))


def with_body(op: Op, **changes: Any) -> Callable[[State], bytes]:
    """The operation's valid body with `changes`; under `data` for Moltin's JSON:API bodies."""

    def make(state: State) -> bytes:
        body = json.loads(json.dumps(VALID_BODIES[op.short](state)))
        target = body["data"] if "data" in body and op.family == "moltin" else body
        for key, value in changes.items():
            if value is ...:
                target.pop(key, None)
            else:
                target[key] = value
        return dumps(body)

    return make


def prefixed(op: Op, prefix: bytes) -> Callable[[State], bytes]:
    """The valid body with `prefix` put first inside its outer object: `{<prefix> ...}`."""
    return lambda s: b"{" + prefix + b", " + valid_body(op)(s)[1:]


# Generic cases -----------------------------------------------------------------------------


def method_cases(op: Op) -> list[Case]:
    return [Case(op, "method-PATCH", 405, method="PATCH", body=b"{}", content_type="application/json")]


def header_cases(op: Op) -> list[Case]:
    if not op.secured:
        return []
    body = valid_body(op) if op.media_type else None
    ct = op.media_type
    common = dict(body=body, content_type=ct)
    cases = [
        Case(op, "no-credential", 401, auth=NONE, **common),
        Case(op, "empty-bearer", 401, auth=("Bearer ",), **common),
        Case(op, "basic-scheme", 401, auth=("Basic dXNlcjpwYXNz",), **common),
        Case(op, "huge-credential", 401, auth=(HUGE_CREDENTIAL,), **common),
        Case(op, "two-credentials-valid-first", 401, auth=(VALID, OTHER_CREDENTIAL), **common),
        Case(op, "two-credentials-valid-last", 401, auth=(OTHER_CREDENTIAL, VALID), **common),
        Case(op, "two-valid-credentials", 401, auth=(VALID, VALID), **common),
    ]
    if op.family != "ti":
        # Any key is a Thought Industries tenant; a token or the admin token is one string.
        cases.append(Case(op, "credential-with-sql", 401, auth=("Bearer ' OR '1'='1",), **common))
    return cases


# Path parameter values, URL-encoded, and what they decode to.
PATH_VALUES: dict[str, str] = {
    "not-a-uuid": "not-a-uuid",
    "long": "0" * 5_000,
    "dot-dot": "%2E%2E",
    "dot": "%2E",
    "dot-dot-slash": "..%2F..%2Fincoming%2Fv2%2Fping",
    "encoded-slash": "a%2Fb",
    "nul": "%00",
    "invalid-utf8": "%FF%FE",
    "sql": "'%20OR%20'1'%3D'1",
    "shell": "%3Bls%20-la%20%7C%20sh",
}
VALUES_WITH_A_SLASH = {"dot-dot-slash", "encoded-slash"}
# Tenants are printable ASCII without space, `/` or `%`, at most 500, and not `.` or `..`.
VALID_TENANTS = {"not-a-uuid"}


def path_cases(op: Op) -> list[Case]:
    cases = []
    body = valid_body(op) if op.media_type else None
    for param in op.path_params:
        for name, encoded in PATH_VALUES.items():
            if param == "tenant" and name in VALID_TENANTS:
                continue
            if name in VALUES_WITH_A_SLASH:
                status, says = 404, None  # no route has a parameter that holds a `/`
            elif param == "tenant":
                status, says = 400, "tenant"
            else:
                status, says = 404, None
            cases.append(
                Case(op, f"path-{param}-{name}", status, params=((param, encoded),), body=body, content_type=op.media_type, says=says)
            )
    return cases


# Query parameters: a valid value, to send twice.
QUERY_SAMPLES = {
    "cursor": "abc",
    "kind": "redemptionCodeRedeem",
    "query": "Spring",
    "sort": "label:asc",
    "startDate": "2025-01-01",
    "endDate": "2025-01-01",
    "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
    "notifiableId": "0b7c4e2a-9d1f-4a6b-8c3e-5f2d1a0e9b87",
    "page[limit]": "10",
    "page[offset]": "0",
    "filter": "eq(code,SEED-1)",
    "format": "json",
    "path": "/v2",
    "method": "GET",
    "status": "200",
    "tenant": "t",
    "limit": "5",
}
BEYOND_INTEGERS = {
    "int64-max": "9223372036854775807",
    "int64-max-plus-1": "9223372036854775808",
    "int64-min-minus-1": "-9223372036854775809",
    "huge": "1" + "0" * 100,
    "float": "1.0",
    "exponent": "1e3",
    "negative": "-1",
    "hex": "0x10",
    "nul": "%00",
    "sql": "1%20OR%201%3D1",
}


def _free_text(schema: dict) -> bool:
    return schema.get("type") == "string" and not ({"pattern", "format", "enum", "anyOf"} & set(schema))


def query_cases(op: Op) -> list[Case]:
    cases = []
    for param in op.query:
        name, schema = param["name"], param["schema"]
        encoded = name.replace("[", "%5B").replace("]", "%5D")
        sample = QUERY_SAMPLES[name]
        cases.append(Case(op, f"query-{name}-twice", 400, query=f"{encoded}={sample}&{encoded}={sample}", says="more than once"))
        if schema.get("type") == "integer":
            for label, value in BEYOND_INTEGERS.items():
                cases.append(Case(op, f"query-{name}-{label}", 400, query=f"{encoded}={value}", says=name))
            continue
        too_long = "a" * (schema.get("maxLength", 5_000) + 1)
        cases.append(Case(op, f"query-{name}-too-long", 400, query=f"{encoded}={too_long}", says=name))
        if not _free_text(schema):
            for label, value in (("nul", "%00"), ("invalid-utf8", "%FF%FE"), ("sql", "'%20OR%20'1'%3D'1"), ("shell", "%24(reboot)")):
                cases.append(Case(op, f"query-{name}-{label}", 400, query=f"{encoded}={value}", says=name))
    return cases


NOT_JSON_OBJECTS = {"array": b"[]", "string": b'"text"', "number": b"42", "null": b"null", "true": b"true"}
DEEP = 100  # deeper than any body of either contract, far below Python's recursion limit


def json_body_cases(op: Op) -> list[Case]:
    json_ct = "application/json"
    valid = valid_body(op)

    def body_case(name: str, body: Body, status: int = 400, content_type: str | None = json_ct, says: str | None = None) -> Case:
        return Case(op, f"body-{name}", status, body=body, content_type=content_type, says=says)

    cases = [
        body_case("truncated", lambda s: valid(s)[: len(valid(s)) // 2]),
        body_case("trailing-comma", lambda s: valid(s)[:-1] + b",}"),
        body_case("single-quotes", lambda s: valid(s).replace(b'"', b"'")),
        body_case("trailing-garbage", lambda s: valid(s) + b"}"),
        body_case("empty", b""),
        body_case("whitespace", b" \r\n\t "),
        *(body_case(f"not-an-object-{name}", text) for name, text in NOT_JSON_OBJECTS.items()),
        body_case("invalid-utf8", prefixed(op, b'"x\xff\xfe": 1'), says="UTF-8"),
        body_case("overlong-utf8", prefixed(op, b'"x\xc0\xaf": 1'), says="UTF-8"),
        body_case("lone-surrogate", prefixed(op, b'"x": "\\ud800"'), says="UTF-8"),
        body_case("utf16-declared", lambda s: valid(s).decode().encode("utf-16"), content_type="application/json; charset=utf-16"),
        body_case("bom", lambda s: b"\xef\xbb\xbf" + valid(s)),
        body_case("raw-nul", prefixed(op, b'"x\x00": 1')),
        body_case("escaped-nul", prefixed(op, b'"x": "a\\u0000b"'), says="NUL"),
        body_case("nan", prefixed(op, b'"x": NaN')),
        body_case("infinity", prefixed(op, b'"x": -Infinity')),
        body_case("float-beyond-double", prefixed(op, b'"x": 1e400')),
        body_case("integer-4301-digits", prefixed(op, b'"x": ' + b"9" * 4301)),
        body_case("duplicate-key", prefixed(op, b'"x": 1, "x": 2')),
        body_case("deep-array", b"[" * 100_000 + b"]" * 100_000),
        body_case("deep-object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        body_case("deep-inside", prefixed(op, b'"x": ' + b"[" * DEEP + b"]" * DEEP), says="nested"),
        body_case("over-1-MiB", lambda s: prefixed(op, b'"x": "' + b"a" * MAX_BODY + b'"')(s), status=413),
        body_case("10-MB", b"[" + b"0," * (TEN_MB // 2) + b"0]", status=413),
        body_case("content-type-text", valid, status=415, content_type="text/plain"),
        body_case("content-type-missing", valid, status=415, content_type=None),
        body_case("content-type-form", lambda s: b"label=x&codeLength=8", status=415, content_type="application/x-www-form-urlencoded"),
        body_case("content-type-multipart", valid, status=415, content_type="multipart/form-data; boundary=xyz"),
        body_case("content-type-xml", b"<label>x</label>", status=415, content_type="application/xml"),
        body_case("content-type-garbage", valid, status=415, content_type=";;;=;"),
        body_case("content-type-json-patch", valid, status=415, content_type="application/json-patch+json"),
        # Prototype-pollution keys are ordinary unknown fields: the answer names what is missing.
        body_case(
            "only-unknown-fields",
            b'{"__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}',
            status=422 if op.family == "ti" else 400,
        ),
    ]
    return cases


def form_body_cases(op: Op) -> list[Case]:
    form_ct = "application/x-www-form-urlencoded"

    def form_case(name: str, body: Body, status: int = 400, content_type: str | None = form_ct, says: str | None = None) -> Case:
        return Case(op, f"form-{name}", status, body=body, content_type=content_type, says=says)

    return [
        form_case("json", b'{"grant_type": "implicit", "client_id": "x"}', status=415, content_type="application/json"),
        form_case("content-type-missing", b"grant_type=implicit&client_id=x", status=415, content_type=None),
        form_case("content-type-text", b"grant_type=implicit&client_id=x", status=415, content_type="text/plain"),
        form_case(
            "multipart",
            b'--xyz\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nimplicit\r\n--xyz--\r\n',
            status=415,
            content_type="multipart/form-data; boundary=xyz",
        ),
        form_case("empty", b""),
        form_case("only-separators", b"&&&==&="),
        form_case("grant-type-twice", b"grant_type=implicit&grant_type=client_credentials&client_id=x&client_secret=s", says="more than once"),
        form_case("client-id-twice", b"grant_type=implicit&client_id=a&client_id=b", says="more than once"),
        form_case("invalid-utf8-escaped", b"grant_type=implicit&client_id=%FF%FE", says="UTF-8"),
        form_case("invalid-utf8-raw", b"grant_type=implicit&client_id=\xff\xfe", says="UTF-8"),
        form_case("nul-escaped", b"grant_type=implicit&client_id=a%00b", says="NUL"),
        form_case("nul-raw", b"grant_type=implicit&client_id=a\x00b", says="NUL"),
        form_case("1001-fields", b"grant_type=implicit&client_id=x" + b"&f=1" * 1_000, says="1000"),
        form_case("100000-fields", b"grant_type=implicit&client_id=x" + b"&f=1" * 100_000, says="1000"),
        form_case("client-id-201", b"grant_type=implicit&client_id=" + b"a" * 201, says="client_id"),
        form_case("client-secret-huge", b"grant_type=client_credentials&client_id=x&client_secret=" + b"s" * 500_000, says="client_secret"),
        form_case("grant-sql", b"grant_type=implicit'%20OR%20'1'%3D'1&client_id=x", says="grant_type"),
        form_case("grant-password", b"grant_type=password&username=admin&password=admin&client_id=x", says="grant_type"),
        form_case("over-1-MiB", b"grant_type=implicit&client_id=x&pad=" + b"a" * MAX_BODY, status=413),
        form_case("10-MB", b"a" * TEN_MB, status=413),
    ]


def generic_cases(op: Op, first_of_path: bool) -> list[Case]:
    cases = method_cases(op) if first_of_path else []
    cases += header_cases(op) + path_cases(op) + query_cases(op)
    if op.media_type == "application/json":
        cases += json_body_cases(op)
    elif op.media_type:
        cases += form_body_cases(op)
    return cases


# Cases written per operation ---------------------------------------------------------------


def field_cases() -> list[Case]:
    ti = OPS["create_group"]
    create, update = OPS["create_promotion"], OPS["update_promotion"]
    add, delete = OPS["add_codes"], OPS["delete_codes"]
    json_ct = "application/json"

    def case(op: Op, case_name: str, status: int, says: str | None = None, /, **changes: Any) -> Case:
        return Case(op, case_name, status, body=with_body(op, **changes), content_type=json_ct, says=says)

    def case_raw(op: Op, name: str, status: int, body: Body, says: str | None = None) -> Case:
        return Case(op, name, status, body=body, content_type=json_ct, says=says)

    def schema_of(promotion_type: str, schema: dict) -> dict:
        return {"promotion_type": promotion_type, "schema": schema}

    codes = lambda *entries: {"type": "promotion_codes", "codes": list(entries)}  # noqa: E731
    snapshot = OPS["import_snapshot"]

    def snapshot_with(name: str, change: Callable[[dict], None], says: str | None = None) -> Case:
        def make(state: State) -> bytes:
            body = json.loads(json.dumps(state.snapshot))
            change(body)
            return dumps(body)

        return Case(snapshot, name, 400, body=make, content_type=json_ct, says=says)

    def group0(key: str, value: Any) -> Callable[[dict], None]:
        return lambda body: body["redemptionCodeGroups"][0].__setitem__(key, value)

    return [
        # Thought Industries: numbers at and beyond 64-bit limits, floats, negative counts.
        case(ti, "codeLength-int64-max", 422, codeLength=INT64_MAX),
        case(ti, "codeLength-int64-max-plus-1", 422, codeLength=INT64_MAX + 1),
        case(ti, "codeLength-2**64", 422, codeLength=2**64),
        case(ti, "codeLength-int64-min", 422, codeLength=-(2**63)),
        case(ti, "codeLength-float", 400, "integer", codeLength=8.0),
        case(ti, "codeLength-fraction", 400, "integer", codeLength=8.5),
        case(ti, "codeLength-string", 400, "integer", codeLength="8"),
        case(ti, "codeLength-true", 400, "integer", codeLength=True),
        case_raw(ti, "codeLength-beyond-double", 400, lambda s: dumps({**GROUP, "codeLength": 8}).replace(b"8,", b"1e400,", 1)),
        case(ti, "totalCodesCount-negative", 422, totalCodesCount=-1),
        case(ti, "totalCodesCount-int64-min", 422, totalCodesCount=-(2**63)),
        case(ti, "totalCodesCount-2**64", 422, totalCodesCount=2**64),
        case(ti, "totalCodesCount-float", 400, "integer", totalCodesCount=3.0),
        case(ti, "accessDays-negative", 422, accessDays=-1),
        case(ti, "accessDays-int64-max-plus-1", 422, accessDays=INT64_MAX + 1),
        case(ti, "accessDays-float", 400, "integer", accessDays=1.5),
        # Long strings and ids.
        case(ti, "label-256", 422, "255", label="x" * 256),
        case(ti, "label-500-KB", 422, "255", label="x" * 500_000),
        case(ti, "course-id-10-KB", 400, "UUID", courses=["0" * 10_000]),
        case(ti, "courses-1001", 422, "1000", courses=[COURSE] * 1001),
        case(ti, "client-id-not-a-uuid", 400, "UUID", client="1" * 36),
        case(ti, "expirationDate-year-99999", 400, "expirationDate", expirationDate="99999-01-01"),
        case(ti, "expirationDate-offset-beyond-9999", 400, "expirationDate", expirationDate="9999-12-31T23:59:59-23:59"),
        case(ti, "expirationDate-newline", 400, "expirationDate", expirationDate="2025-01-01\n"),
        # SQL and shell metacharacters where an id is expected, or in a label of a refused request.
        case(ti, "course-id-sql", 400, "UUID", courses=["' OR '1'='1"]),
        case(ti, "course-id-traversal", 400, "UUID", courses=["../../../etc/passwd"]),
        case(ti, "course-id-shell", 400, "UUID", courses=["$(reboot)"]),
        case(ti, "course-id-uuid-and-sql", 400, "UUID", courses=[COURSE + "'; DROP TABLE redemption_groups; --"]),
        case(ti, "sql-label-no-codes", 422, totalCodesCount=0, label="'); DROP TABLE redemption_codes; --"),
        case(ti, "shell-label-no-items", 422, courses=[], label="$(rm -rf /) `reboot` | sh"),
        # Moltin promotions.
        case(create, "amount-int64-max-plus-1", 400, "amount", schema={"currencies": [{"currency": "USD", "amount": INT64_MAX + 1}]}),
        case(create, "amount-negative", 400, "amount", schema={"currencies": [{"currency": "USD", "amount": -1}]}),
        case(create, "amount-float", 400, "amount", schema={"currencies": [{"currency": "USD", "amount": 9.99}]}),
        case(create, "x-2**64", 400, **schema_of("x_for_y", {"x": 2**64, "y": 1, "targets": ["p"]})),
        case(create, "x-float", 400, **schema_of("x_for_y", {"x": 2.0, "y": 1, "targets": ["p"]})),
        case(create, "x-negative", 400, **schema_of("x_for_y", {"x": -1, "y": 1, "targets": ["p"]})),
        case(create, "percent-above-100", 400, **schema_of("item_percent_discount", {"targets": "all", "percent": 1e308})),
        case(create, "max-applications-int64", 400, max_applications_per_cart=INT64_MAX),
        case(create, "name-256", 400, "name", name="n" * 256),
        case(create, "name-500-KB", 400, "name", name="n" * 500_000),
        case(create, "description-1001", 400, "description", description="d" * 1001),
        case(create, "enabled-string", 400, "enabled", enabled="true"),
        case(create, "enabled-number", 400, "enabled", enabled=1),
        case(create, "start-year-99999", 400, "start", start="99999-01-01"),
        case(create, "type-sql", 400, "type", type="promotion'; DROP TABLE promotions; --"),
        case(create, "promotion-type-proto", 400, "promotion_type", promotion_type="__proto__"),
        case(create, "currency-shell", 400, "currency", schema={"currencies": [{"currency": "$(id)", "amount": 1}]}),
        case_raw(create, "no-data", 400, b'{"type": "promotion", "name": "x"}', "data"),
        case(update, "end-before-start", 422, start="2030-01-01", end="2020-01-01"),
        case(update, "type-without-schema", 400, promotion_type="fixed_discount"),
        case(update, "name-256", 400, "name", name="n" * 256),
        case(update, "end-year-0", 400, "end", end="0000-01-01"),
        # Moltin codes.
        case(add, "code-with-space-sql", 400, "code", **codes({"code": "' OR '1'='1"})),
        case(add, "code-with-slash", 400, "code", **codes({"code": "a/../b"})),
        case(add, "code-with-percent", 400, "code", **codes({"code": "%2F"})),
        case(add, "code-with-nul", 400, "NUL", **codes({"code": "a\u0000"})),
        case(add, "code-101", 400, "code", **codes({"code": "c" * 101})),
        case(add, "code-10-KB", 400, "code", **codes({"code": "c" * 10_000})),
        case(add, "code-empty", 400, "code", **codes({"code": ""})),
        case(add, "code-number", 400, "code", **codes({"code": 12345})),
        case(add, "uses-zero", 400, "uses", **codes({"code": "NEW-1", "uses": 0})),
        case(add, "uses-negative", 400, "uses", **codes({"code": "NEW-1", "uses": -1})),
        case(add, "uses-int64-max", 400, "uses", **codes({"code": "NEW-1", "uses": INT64_MAX})),
        case(add, "uses-2**64", 400, "uses", **codes({"code": "NEW-1", "uses": 2**64})),
        case(add, "uses-float", 400, "uses", **codes({"code": "NEW-1", "uses": 1.0})),
        case(add, "user-256", 400, "user", **codes({"code": "NEW-1", "user": "u" * 256})),
        case(add, "consume-unit-shell", 400, "consume_unit", **codes({"code": "NEW-1", "consume_unit": "per_cart; rm -rf /"})),
        case(add, "codes-1001", 400, "1000", **codes(*({"code": f"NEW-{n}"} for n in range(1001)))),
        case(add, "codes-empty", 400, "codes", **codes()),
        case(add, "type-wrong", 400, "type", type="promotion"),
        Case(add, "code-taken", 409, body=lambda s: dumps({"data": codes({"code": "NEW-1"}, {"code": s.codes[0]})}), content_type=json_ct),
        case(add, "code-twice", 409, **codes({"code": "NEW-1"}, {"code": "NEW-1"})),
        case(delete, "code-with-slash", 400, "code", **codes({"code": "../x"})),
        case(delete, "codes-1001", 400, "1000", **codes(*({"code": f"NEW-{n}"} for n in range(1001)))),
        case(delete, "codes-empty", 400, "codes", **codes()),
        # Control plane.
        case(OPS["add_catalog"], "unknown-field", 400, "admin", admin=True),
        case(OPS["add_catalog"], "id-101", 400, "id", courses=[{"id": "i" * 101, "title": "t"}]),
        case(OPS["add_catalog"], "title-256", 400, "title", courses=[{"id": "c", "title": "t" * 256}]),
        case(OPS["add_catalog"], "1001-items", 400, "1000", courses=[{"id": f"c{n}", "title": "t"} for n in range(1001)]),
        case(OPS["replace_catalog"], "sql-title-no-id", 400, "id", courses=[{"title": "'; DELETE FROM catalog_items; --"}]),
        case(OPS["replace_catalog"], "items-not-objects", 400, courses=["'; DELETE FROM catalog_items; --"]),
        case(OPS["set_clock"], "year-9999", 400, "clock", now="9999-12-31T23:59:59Z"),
        case(OPS["set_clock"], "year-1-positive-offset", 400, now="0001-01-01T00:00:00+01:00"),
        case(OPS["set_clock"], "year-99999", 400, "now", now="99999-01-01T00:00:00Z"),
        case(OPS["set_clock"], "not-a-date", 400, "now", now="tomorrow"),
        case(OPS["set_clock"], "number", 400, "now", now=2**64),
        case(OPS["set_clock"], "frozen-string", 400, "frozen", frozen="yes"),
        case(OPS["advance_clock"], "seconds-2**64", 400, "seconds", seconds=2**64),
        case(OPS["advance_clock"], "seconds-negative", 400, "seconds", seconds=-1),
        case(OPS["advance_clock"], "seconds-string", 400, "seconds", seconds="60"),
        case_raw(OPS["advance_clock"], "seconds-beyond-double", 400, b'{"seconds": 1e400}'),
        case(OPS["redeem"], "code-101", 400, "code", code="c" * 101),
        case(OPS["redeem"], "userId-201", 400, "userId", userId="u" * 201),
        case(OPS["redeem"], "code-sql", 404, code="' OR '1'='1"),
        case(OPS["redeem"], "code-like-wildcard", 404, code="%"),
        case(OPS["redeem"], "code-glob", 404, code="*"),
        case(OPS["use_promotion_code"], "code-sql", 404, code="' OR 1=1 --"),
        case(OPS["use_promotion_code"], "code-like-wildcard", 404, code="SEED%"),
        case(OPS["use_promotion_code"], "code-like-underscore", 404, code="SEED_1"),
        case(OPS["use_promotion_code"], "user-256", 400, "user", user="u" * 256),
        snapshot_with("version-2", lambda b: b.__setitem__("version", 2)),
        snapshot_with("codeLength-negative", group0("codeLength", -5), "codeLength"),
        snapshot_with("codeLength-2**64", group0("codeLength", 2**64), "codeLength"),
        snapshot_with("totalCodesCount-2**64", group0("totalCodesCount", 2**64), "totalCodesCount"),
        snapshot_with("code-with-nul", lambda b: b["redemptionCodeGroups"][0]["codes"].append("abc\u0000"), "NUL"),
        snapshot_with("codes-twice", lambda b: b["redemptionCodeGroups"][0]["codes"].append(b["redemptionCodeGroups"][0]["codes"][0])),
        snapshot_with("promotion-code-used-2**64", lambda b: b["promotions"].append(_snapshot_promotion(used=2**64)), "used"),
        snapshot_with("promotion-code-uses-int64-max-plus-1", lambda b: b["promotions"].append(_snapshot_promotion(uses=INT64_MAX + 1)), "uses"),
        snapshot_with("promotion-extras-deep", lambda b: b["promotions"].append(_snapshot_promotion(extras={"x": _nested(DEEP)})), "nested"),
        snapshot_with("catalog-not-arrays", lambda b: b.__setitem__("catalog", {"courses": "' OR 1=1"})),
        case(OPS["add_fault"], "status-200", 400, "status", status=200),
        case(OPS["add_fault"], "status-2**64", 400, "status", status=2**64),
        case(OPS["add_fault"], "latency-2**64", 400, "latency_ms", latency_ms=2**64),
        case(OPS["add_fault"], "latency-negative", 400, "latency_ms", latency_ms=-1),
        case(OPS["add_fault"], "probability-above-1", 400, "probability", probability=1.5),
        case(OPS["add_fault"], "probability-negative", 400, "probability", probability=-0.1),
        case(OPS["add_fault"], "count-zero", 400, "count", count=0),
        case(OPS["add_fault"], "count-float", 400, "count", count=1.0),
        case(OPS["add_fault"], "path-501", 400, "path", path="/" + "p" * 500),
        case(OPS["add_fault"], "path-relative", 400, "path", path="../etc"),
        case(OPS["add_fault"], "method-shell", 400, "method", method="GET;reboot"),
        case(OPS["add_fault"], "drop-string", 400, "drop", drop="true"),
        case(OPS["add_fault"], "drop-and-status", 400, drop=True),
    ]


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _snapshot_promotion(*, used: int = 0, uses: int | None = None, extras: dict | None = None) -> dict:
    promotion = {
        "id": "11111111-2222-4333-8444-555555555555",
        "name": "From a snapshot",
        "description": "d",
        "enabled": True,
        "automatic": None,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 100}]},
        "start": "2020-01-01T00:00:00.000Z",
        "end": "2030-01-01T00:00:00.000Z",
        "created_at": "2020-01-01T00:00:00.000Z",
        "updated_at": "2020-01-01T00:00:00.000Z",
        "codes": [{"code": "SNAP-1", "uses": uses, "user": None, "consume_unit": "per_cart", "used": used}],
    }
    if extras is not None:
        promotion["extras"] = extras
    return promotion


# What a page of another site can make a browser send without a preflight (issue 16).
CROSS_SITE = "The control plane takes no requests from pages of another origin"
NEEDS_JSON = "A POST to the control plane needs a JSON body or the header X-Codestand: 1"
UNKNOWN_HOST = "does not answer to the host name"


def browser_cases(op: Op) -> list[Case]:
    """Every state-changing control operation, sent as a page of another site would, and every
    operation of both contracts with a `Host` of another name (DNS rebinding): refused, 403 and
    400, in the operation's shape, before anything else."""
    cases = [
        Case(op, "host-rebinding", 400, headers=(("Host", "evil.example:8080"),), says=UNKNOWN_HOST),
        Case(op, "host-empty", 400, headers=(("Host", ""),), says=UNKNOWN_HOST),
    ]
    if op.family != "control" or op.method == "GET":
        return cases
    cases.append(
        Case(op, "cross-site-origin", 403, headers=(("Origin", "http://evil.example"),), browser=True,
             body=b"{}", content_type="application/json", says=CROSS_SITE)
    )
    cases.append(Case(op, "cross-site-fetch-metadata", 403, headers=(("Sec-Fetch-Site", "cross-site"),), says="another site"))
    if op.method == "POST":
        cases.append(Case(op, "cross-site-text-plain", 403, browser=True, body=b"x", content_type="text/plain", says=NEEDS_JSON))
        cases.append(Case(op, "cross-site-form", 403, browser=True, body=b"a=b", content_type="application/x-www-form-urlencoded", says=NEEDS_JSON))
        cases.append(Case(op, "cross-site-no-body", 403, browser=True, says=NEEDS_JSON))
    return cases


def corpus() -> list[Case]:
    cases: list[Case] = []
    seen_paths: set[str] = set()
    for op in operations():
        cases += generic_cases(op, op.template not in seen_paths)
        cases += browser_cases(op)
        seen_paths.add(op.template)
    cases += field_cases()
    return cases
