"""`Prefer: code=NNN`: a vendor route answers the documented response of that status."""

from __future__ import annotations

import pytest

from codestand import spec
from codestand.control.examples import ResponseCatalog, sample
from codestand.core.redaction import fingerprint
from codestand.http.schema_problems import FORMATS, SchemaValidator
from tests.conftest import TI_KEY
from tests.samples import GROUP, PROMOTION

GENERATED_PROMOTION = {
    "type": "promotion",
    "id": "00000000-0000-4000-8000-000000000000",
    "name": "string",
    "description": "string",
    "enabled": False,
    # Required by the vendor's promotion object; an enum's first value.
    "automatic": False,
    "promotion_type": "fixed_discount",
    "schema": {},
    "start": "2025-01-01T00:00:00.000Z",
    "end": "2025-01-01T00:00:00.000Z",
    "created_at": "2025-01-01T00:00:00.000Z",
    "updated_at": "2025-01-01T00:00:00.000Z",
    "meta": {"timestamps": {"created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z"}},
}


def prefer(code: int | str) -> dict[str, str]:
    return {"Prefer": f"code={code}"}


@pytest.mark.parametrize(
    ("method", "path", "code", "body"),
    [
        ("get", "/incoming/v2/redemptionCodes/no-such-group", 404, {"errors": ["Not found."]}),
        ("post", "/incoming/v2/redemptionCodes", 422, {"errors": ["The request breaks a rule."]}),
        ("post", "/incoming/v2/redemptionCodes", 400, {"errors": ["Bad request."]}),
        ("get", "/incoming/v2/redemptionCodes", 500, {"errors": ["Internal server error."]}),
        ("post", "/incoming/v2/redemptionCodes", 413, {"errors": ["Request body is larger than 1048576 bytes."]}),
    ],
)
def test_thought_industries_errors_come_in_its_shape(ti, method, path, code, body):
    response = ti.request(method, path, json=GROUP if method == "post" else None, headers=prefer(code))
    assert response.status_code == code
    assert response.headers["preference-applied"] == f"code={code}"
    assert response.json() == body


def test_a_thought_industries_401_has_its_empty_body(ti):
    response = ti.get("/incoming/v2/ping", headers=prefer(401))
    assert (response.status_code, response.content) == (401, b"")
    assert response.headers["preference-applied"] == "code=401"


@pytest.mark.parametrize(
    ("method", "path", "code", "error"),
    [
        ("get", "/v2/promotions", 401, {"status": 401, "title": "Unable to validate access token"}),
        ("get", "/v2/promotions/{id}", 404, {"status": 404, "title": "Not Found", "detail": "The requested resource was not found"}),
        ("post", "/v2/promotions", 422, {"status": 422, "title": "Unprocessable Entity", "detail": "The request breaks a rule"}),
        ("post", "/v2/promotions/{id}/codes", 409, {"status": 409, "title": "Conflict", "detail": "Write conflict detected"}),
        ("get", "/v2/promotions", 403, {"status": 403, "title": "Forbidden"}),
    ],
)
def test_moltin_errors_come_in_its_shape(moltin, method, path, code, error):
    promotion = moltin.post("/v2/promotions", json=PROMOTION).json()["data"]["id"]
    body = {"data": {"type": "promotion_codes", "codes": [{"code": "ABC"}]}} if "codes" in path else PROMOTION
    response = moltin.request(method, path.format(id=promotion), json=body if method == "post" else None, headers=prefer(code))
    assert response.status_code == code
    assert response.headers["preference-applied"] == f"code={code}"
    assert response.json() == {"errors": [error]}


def test_a_moltin_500_has_a_request_id(moltin):
    response = moltin.get("/v2/promotions", headers=prefer(500))
    [error] = response.json()["errors"]
    assert response.status_code == 500
    assert len(error.pop("request_id")) == 36
    assert error == {
        "status": 500,
        "title": "Internal Server Error",
        "detail": "There was an internal server error, you can report with your request id.",
    }


def test_a_405_names_the_allowed_methods_and_the_applied_preference(moltin):
    response = moltin.get("/v2/promotions", headers=prefer(405))
    assert response.status_code == 405
    assert (response.headers["allow"], response.headers["preference-applied"]) == ("GET, POST", "code=405")
    assert response.json() == {"errors": [{"status": 405, "title": "Method Not Allowed", "detail": "This method is not allowed on this resource"}]}


def test_a_success_with_an_example_answers_the_example_and_stores_nothing(ti):
    response = ti.post("/incoming/v2/redemptionCodes", json=GROUP, headers=prefer(201))
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "code=201"
    assert response.json() == spec.load()["paths"]["/incoming/v2/redemptionCodes"]["post"]["responses"]["201"]["content"][
        "application/json"
    ]["example"]
    assert response.json()["label"] == "Spring Promo"
    assert ti.get("/incoming/v2/redemptionCodes").json()["pageInfo"]["total"] == 0


def test_a_success_without_an_example_is_built_from_the_schema(moltin):
    response = moltin.post("/v2/promotions", json=PROMOTION, headers=prefer(201))
    assert response.status_code == 201
    assert response.json() == {"data": GENERATED_PROMOTION}
    assert moltin.get("/v2/promotions").json()["data"] == []


def test_a_204_has_no_body_and_deletes_nothing(moltin):
    promotion = moltin.post("/v2/promotions", json=PROMOTION).json()["data"]["id"]
    response = moltin.delete(f"/v2/promotions/{promotion}", headers=prefer(204))
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["preference-applied"] == "code=204"
    assert moltin.get(f"/v2/promotions/{promotion}").status_code == 200


def test_a_200_reaches_no_handler(ti):
    response = ti.get("/incoming/v2/redemptionCodes/no-such-group", headers=prefer(200))
    assert response.status_code == 200
    assert response.json()["id"] == "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("client_name", "path", "body"),
    [
        ("ti", "/incoming/v2/ping", {"errors": ["Prefer: code=404 names no response of this operation; it documents 200, 304, 400, 401, 403, 405, 429, 500, 503."]}),
        (
            "moltin",
            "/v2/promotions",
            {
                "errors": [
                    {
                        "status": 404,
                        "title": "Not Found",
                        "detail": "Prefer: code=404 names no response of this operation; it documents 200, 400, 401, 403, 405, 500, 503",
                    }
                ]
            },
        ),
    ],
)
def test_a_status_the_operation_does_not_document_is_a_404(request, store, client_name, path, body):
    # `store` named here so that its backends parametrize this test, which looks its client up.
    client = request.getfixturevalue(client_name)
    response = client.get(path, headers=prefer(404))
    assert response.status_code == 404
    assert "preference-applied" not in response.headers
    assert response.json() == body


def test_a_bad_request_gets_its_real_error_first(ti, client):
    response = ti.post("/incoming/v2/redemptionCodes", json={**GROUP, "codeLength": "8"}, headers=prefer(201))
    assert (response.status_code, response.json()) == (400, {"errors": ["codeLength must be an integer."]})
    assert "preference-applied" not in response.headers

    del client.headers["Authorization"]
    response = client.get("/incoming/v2/ping", headers=prefer(200))
    assert (response.status_code, response.content) == (401, b"")


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("respond-async, code=404", 404),
        ('code="404"; wait=5', 404),
        ("CODE=404", 404),
        ("code=abc", 200),
        ("code=4040", 200),
        ("return=minimal", 200),
        ("examplecode=404", 200),
    ],
)
def test_the_header_is_read_as_rfc_7240_preferences(ti, header, status):
    ti.post("/incoming/v2/redemptionCodes", json=GROUP)
    group = ti.get("/incoming/v2/redemptionCodes").json()["redemptionCodeGroups"][0]["id"]
    assert ti.get(f"/incoming/v2/redemptionCodes/{group}", headers={"Prefer": header}).status_code == status


def test_the_control_plane_ignores_the_header(client):
    response = client.get("/__codestand/health", headers=prefer(500))
    assert response.status_code == 200
    assert "preference-applied" not in response.headers


def test_the_journal_shows_what_was_answered(ti):
    ti.get("/incoming/v2/ping", headers=prefer(500))
    [entry] = ti.get("/__codestand/journal").json()["entries"]
    assert (entry["status"], entry["tenant"], entry["response"]["body"]) == (500, fingerprint(TI_KEY), {"errors": ["Internal server error."]})
    assert entry["request"]["headers"]["prefer"] == "code=500"


def _success_responses():
    catalog = ResponseCatalog(spec.load())
    for operation_id in catalog._responses:
        for status in catalog.statuses(operation_id):
            if status < 300:
                yield pytest.param(catalog, operation_id, status, id=f"{operation_id.rsplit('.', 1)[-1]}-{status}")


@pytest.mark.parametrize(("catalog", "operation_id", "status"), list(_success_responses()))
def test_every_built_body_satisfies_its_schema(catalog, operation_id, status):
    contract = spec.load()
    media_type, body = catalog.body(operation_id, status)
    response = catalog._responses[operation_id][status]
    if media_type is None:
        assert body is None and "content" not in response
        return
    # The contract's own reading of OpenAPI 3.0 (`nullable` admits null beside `allOf`), as the
    # server's responses are read.
    schema = {**response["content"][media_type]["schema"], "components": contract["components"]}
    assert list(SchemaValidator(schema, format_checker=FORMATS).iter_errors(body)) == []


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "string"}, "string"),
        ({"type": "string", "minLength": 8, "maxLength": 10}, "stringss"),
        ({"type": "string", "maxLength": 3}, "str"),
        ({"type": "string", "format": "date-time"}, "2025-01-01T00:00:00.000Z"),
        ({"type": "string", "enum": ["b", "a"]}, "b"),
        ({"type": "string", "example": "ABC_XYZ", "default": "x"}, "ABC_XYZ"),
        ({"type": "integer", "default": 5}, 5),
        ({"type": "integer", "minimum": 4, "maximum": 20}, 4),
        ({"type": "number", "minimum": 0, "exclusiveMinimum": True}, 1),
        ({"type": "integer", "maximum": -3}, -3),
        ({"type": "boolean"}, False),
        ({"type": "string", "nullable": True}, None),
        ({"type": "array", "items": {"type": "integer"}}, []),
        ({"type": "array", "minItems": 2, "items": {"type": "integer"}}, [0, 0]),
        ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}, {"a": 0}),
        ({"allOf": [{"required": ["a"], "properties": {"a": {"type": "string"}}}, {"required": ["b"], "properties": {"b": {"type": "boolean"}}}]}, {"a": "string", "b": False}),
        ({"anyOf": [{"not": {"required": ["x"]}}, {"type": "string", "format": "date"}]}, "2025-01-01"),
        ({"$ref": "#/components/schemas/Thing"}, {"id": "00000000-0000-4000-8000-000000000000"}),
        ({}, None),
    ],
)
def test_sample(schema, value):
    root = {"components": {"schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "format": "uuid"}}}}}}
    assert sample(schema, root) == value
