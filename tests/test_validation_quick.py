"""The compiled first check of `schema_problems.schema_problems` is never more lenient than jsonschema.

Whatever it passes, jsonschema (which names the problems the vendors' renderers show) must pass
too, or a check would be lost. Every request-body and parameter schema of both contracts is tried
with bodies built from valid ones by mutation and with arbitrary JSON values.
"""

from __future__ import annotations

import copy

import pytest
from connexion.json_schema import resolve_refs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codestand import spec
from codestand.http.schema_problems import _cached_validator, _quick_validator, collect

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
VALID = [
    {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 100, "courses": [COURSE]},
    {"label": "x", "codeLength": 12, "totalCodesCount": 1, "licenses": [COURSE], "client": COURSE,
     "expirationDate": "2030-01-01", "accessDays": 30, "bundles": [COURSE], "learningPaths": [COURSE]},
    {"label": "y", "codeLength": 4, "totalCodesCount": 2, "courses": [COURSE], "accessExpirationDate": "2030-01-01T10:00:00Z",
     "expirationDate": None, "client": None},
    {"data": {"type": "promotion_codes", "codes": [{"code": "ZXY_CBA"}, {"code": "A", "uses": 2, "user": "u", "consume_unit": "per_item"}]}},
    {"data": {"type": "promotion", "name": "Promo", "description": "d", "enabled": True, "promotion_type": "fixed_discount",
              "schema": {"currencies": [{"currency": "USD", "amount": 900}]}, "start": "2017-11-13", "end": "2030-11-13T00:00:00Z",
              "min_cart_value": [{"currency": "EUR", "amount": 1}], "max_applications_per_cart": 3}},
    {"data": {"type": "promotion", "promotion_type": "x_for_y", "schema": {"targets": ["p1"], "x": 3, "y": 2}}},
    {"data": {"type": "promotion", "promotion_type": "item_percent_discount", "schema": {"targets": "all", "percent": 10}}},
    {"data": {"type": "promotion", "promotion_type": "bundle_fixed_discount",
              "schema": {"requirements": [{"targets": ["a"], "quantity": 2}], "currencies": [{"currency": "USD", "amount": 5}]}}},
    {"grant_type": "client_credentials", "client_id": "store", "client_secret": "s"},
    {"code": "ZXY_CBA", "userId": "u1", "user": "someone"},
    "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70", "2030-01-01", "2030-01-01T00:00:00Z", "label:asc", "10", "eq(code,X)",
]
ODD = [None, True, False, 0, 1, -1, 1.0, 1.5, 10**20, -(10**20), "", " ", "a", "USD\n", "x" * 300, "é", "\U0001F600",
       "2030-02-30", "2030-01-01T25:00:00Z", "not-a-uuid", COURSE.upper(), COURSE + "\n", [], [None], [COURSE, COURSE], {}, {"a": 1},
       "fixed_discount", "promotion_codes", "per_cart", "all", 0.5, 100, 100.5, 1000, 10_000, 10_001, 36_500, "NaN"]  # fmt: skip


def _schemas() -> list[tuple[str, dict]]:
    found = []
    for name in ("openapi.yaml", "control.yaml"):
        document = resolve_refs(spec.load(name))
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict):
                    continue
                for p in operation.get("parameters", []) + (item.get("parameters") or []):
                    found.append((f"{method} {path} {p['name']}", p.get("schema", {})))
                for mime, media in operation.get("requestBody", {}).get("content", {}).items():
                    found.append((f"{method} {path} {mime}", media.get("schema", {})))
    return found


SCHEMAS = _schemas()


def _paths(value, here=()):
    yield here
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*here, i))


@st.composite
def mutated(draw):
    value = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(value))
        where = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not where:
            value = copy.deepcopy(draw(st.sampled_from(ODD))) if action == "replace" else value
            continue
        parent = value
        for part in where[:-1]:
            parent = parent[part]
        key = where[-1]
        if action == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(ODD + VALID)))
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "label", "type", "codes", "schema", "uses", "automatic"]))] = copy.deepcopy(draw(st.sampled_from(ODD)))
        else:
            parent.append(copy.deepcopy(draw(st.sampled_from(ODD + VALID))))
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)


def _never_more_lenient(schema: dict, instance) -> None:
    quick = _quick_validator(schema)
    assert quick is not None
    try:
        passed = quick.is_valid(instance)
    except Exception:  # noqa: BLE001  # it refuses to judge: jsonschema decides, as in production
        return
    if passed:
        assert collect(_cached_validator(schema), instance) == [], instance


@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(instance=mutated() | json_values)
def test_quick_check_is_never_more_lenient(name, schema, instance):
    _never_more_lenient(schema, instance)


@pytest.mark.parametrize("body", VALID[:8])
def test_valid_bodies_pass_the_quick_check(body):
    # Otherwise every request would pay for both validators.
    schemas = [s for n, s in SCHEMAS if "json" in n and not collect(_cached_validator(s), body)]
    assert schemas
    assert all(_quick_validator(s).is_valid(body) for s in schemas if body.get("expirationDate", 1) is not None)
