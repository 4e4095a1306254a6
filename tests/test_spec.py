"""The contract itself: `codestand/openapi.yaml` is valid, names real handlers, and is what is served."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from codestand.spec import SPEC_DIR

SPEC_FILE = SPEC_DIR / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, item[method])
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    ]


def resolved(node: Any, root: dict) -> Any:
    """`node` with every local `$ref` replaced by what it points at, as Connexion serves it."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolved(target, root)
        return {key: resolved(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(value, root) for value in node]
    return node


def test_spec_is_valid_openapi(spec):
    validate(spec)  # raises on the first violation


def test_every_operation_id_is_an_importable_function(spec):
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert ids, "the spec declares no operations"
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    for operation_id in ids:
        module_name, _, function_name = operation_id.rpartition(".")
        function = getattr(importlib.import_module(module_name), function_name)
        assert callable(function), operation_id


def test_security_functions_are_importable(spec):
    for name, scheme in spec["components"]["securitySchemes"].items():
        for key in ("x-bearerInfoFunc", "x-apikeyInfoFunc", "x-tokenInfoFunc", "x-basicInfoFunc"):
            if key in scheme:
                module_name, _, function_name = scheme[key].rpartition(".")
                assert callable(getattr(importlib.import_module(module_name), function_name)), name


def test_thought_industries_operations_are_tagged_and_declare_their_errors(spec):
    ti = [(path, method, op) for path, method, op in operations(spec) if path.startswith("/incoming/")]
    assert {(path, method) for path, method, _ in ti} == {
        ("/incoming/v2/ping", "get"),
        ("/incoming/v2/redemptionCodes", "post"),
        ("/incoming/v2/redemptionCodes", "get"),
        ("/incoming/v2/redemptionCodes/{id}", "get"),
        ("/incoming/v2/events/redemptionCodeRedeem", "get"),
    }
    for path, method, operation in ti:
        assert operation["tags"] == ["Thought Industries"], (path, method)
        assert operation["security"] == [{"tiApiKey": []}], (path, method)
        assert {"401", "405"} <= set(operation["responses"]), (path, method)


def test_served_spec_is_the_file(client, spec):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    # Connexion inlines `$ref`s and fills in the base path; everything else is the file's.
    assert set(served) == set(spec)
    assert served["openapi"] == spec["openapi"]
    assert served["info"] == spec["info"]
    assert served["tags"] == spec["tags"]
    assert list(served["paths"]) == list(spec["paths"])
    assert served["paths"] == resolved(spec["paths"], spec)
    assert served["components"] == resolved(spec["components"], spec)


def test_swagger_ui_is_served(client):
    response = client.get("/ui/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Swagger UI</title>" in response.text
    assert "swagger-ui-bundle.js" in response.text
