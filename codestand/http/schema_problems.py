"""Every problem of a value against a schema, as neutral `Problem`s with field paths.

Connexion's validators stop at the first error; the vendors list every problem of a request.
A compiled check (jsonschema-rs) runs first, and jsonschema walks the instance to name every
problem only when that check finds one (`tests/test_validation_quick.py` checks that the
compiled check never passes what jsonschema refuses).
"""
from __future__ import annotations

import json
import re
import typing as t
import uuid
from datetime import date

import jsonschema
import jsonschema_rs
from jsonschema import Draft4Validator, FormatChecker, ValidationError

from codestand.core.clock import parse_datetime
from codestand.core.errors import Problem

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or (bool(_UUID.match(value)) and bool(uuid.UUID(value)))


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or (bool(_DATE.match(value)) and bool(date.fromisoformat(value)))


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_DATE_TIME.match(value)) and bool(parse_datetime(value))


def _skip_when_null(check: t.Callable) -> t.Callable:
    """OpenAPI 3.0 `nullable: true` admits null whatever the other keywords say."""

    def wrapped(validator, value, instance, schema):
        if instance is None and schema.get("nullable") is True:
            return
        yield from check(validator, value, instance, schema) or ()

    return wrapped


SchemaValidator = jsonschema.validators.extend(
    Draft4Validator,
    {name: _skip_when_null(check) for name, check in Draft4Validator.VALIDATORS.items()},
)


def field_path(parts: t.Iterable[t.Any], prefix: str = "") -> str:
    """`data`, `codes`, 0, `code` -> `data.codes[0].code`."""
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def problems_of(error: ValidationError, prefix: str = "") -> list[Problem]:
    """The neutral problems one jsonschema error stands for."""
    where = field_path(error.absolute_path, prefix) or None
    rule = error.schema.get("x-rule") if isinstance(error.schema, dict) else None
    if rule:
        named = error.schema.get("x-field")
        where = field_path([named], where or "") if named else where
        return _discriminated(error, prefix) or [Problem(f"rule:{rule}", where, _instance_params(error))]
    kind = error.validator
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        return [
            Problem("required", field_path([name], where or ""))
            for name in error.validator_value
            if name not in present
        ]
    if kind == "type":
        key = "null" if error.instance is None else "type"
        return [Problem(key, where, {"expected": error.validator_value})]
    if kind == "anyOf":
        formats = [s.get("format") for s in error.validator_value if isinstance(s, dict)]
        if error.instance is None:
            return [Problem("null", where, {"expected": "string"})]
        return [Problem("format", where, {"format": "|".join(f for f in formats if f)})]
    if kind == "format":
        return [Problem("format", where, {"format": error.validator_value})]
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [Problem("unknown_field", field_path([name], where or "")) for name in extra]
    return [Problem(kind, where, {"limit": error.validator_value})]


def _instance_params(error: ValidationError) -> dict[str, t.Any]:
    """The object's own values, for messages that name them (`promotion_type x_for_y`)."""
    if not isinstance(error.instance, dict):
        return {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in error.instance.items() if not isinstance(v, (dict, list))}


def _discriminated(error: ValidationError, prefix: str) -> list[Problem]:
    """For a rule whose `anyOf` branches are told apart by one property (`x-discriminator`,
    like `promotion_type`), the problems of the branch the instance chose, field by field."""
    name = error.schema.get("x-discriminator")
    if not name or not isinstance(error.instance, dict):
        return []
    for index, branch in enumerate(error.validator_value):
        if error.instance.get(name) in branch.get("properties", {}).get(name, {}).get("enum", []):
            problems: list[Problem] = []
            for sub in error.context or []:
                if sub.relative_schema_path and sub.relative_schema_path[0] == index:
                    problems.extend(problems_of(sub, prefix))
            return problems
    return []


def collect(validator: Draft4Validator, instance: t.Any, prefix: str = "") -> list[Problem]:
    problems: list[Problem] = []
    for error in validator.iter_errors(instance):
        problems.extend(problems_of(error, prefix))
    return problems


def schema_problems(schema: dict, instance: t.Any) -> list[Problem]:
    """Every problem of `instance` against `schema`, as `collect` reports them.

    A compiled validator (jsonschema-rs, Draft 4, with the same format checks) first asks whether
    there is any problem at all, in a microsecond or two where jsonschema takes tens; only when it
    finds one does jsonschema walk the instance to name every problem. The quick check is never
    more lenient than jsonschema on this contract (tests/test_validation_quick.py checks that on
    generated and mutated bodies): where they differ it is stricter (a `nullable` null, which
    it does not know, or Python's `$` matching before a final newline), and then jsonschema,
    which finds nothing, decides.
    """
    if not may_have_problems(schema, instance):
        return []
    return collect(_cached_validator(schema), instance)


def may_have_problems(schema: dict, instance: t.Any) -> bool:
    """False when the compiled validator finds nothing wrong; True when jsonschema must look."""
    quick = _quick_validator(schema)
    if quick is not None:
        try:
            return not quick.is_valid(instance)
        except Exception:  # noqa: BLE001  # e.g. a value it cannot convert: jsonschema decides
            pass
    return True




_validators: dict[int, tuple[dict, Draft4Validator]] = {}


def _cached_validator(schema: dict) -> Draft4Validator:
    """One compiled validator per schema object: building one costs more than validating."""
    hit = _validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (schema, SchemaValidator(schema, format_checker=FORMATS))
        _validators[id(schema)] = hit
    return hit[1]


def _quietly(check: t.Callable[[object], bool]) -> t.Callable[[str], bool]:
    def quick(value: str) -> bool:
        try:
            return bool(check(value))
        except Exception:  # noqa: BLE001  # a failing check is a problem; jsonschema names it
            return False

    return quick


QUICK_FORMATS = {"uuid": _quietly(_is_uuid), "date": _quietly(_is_date), "date-time": _quietly(_is_date_time)}
_quick_validators: dict[int, tuple[dict, t.Any]] = {}


def _quick_validator(schema: dict) -> t.Any:
    """The compiled counterpart of `_cached_validator(schema)`, or None if it cannot be built."""
    hit = _quick_validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        try:
            quick = jsonschema_rs.Draft4Validator(schema, formats=QUICK_FORMATS, validate_formats=True)
        except Exception:  # noqa: BLE001  # e.g. a pattern its regex engine lacks: jsonschema alone
            quick = None
        hit = (schema, quick)
        _quick_validators[id(schema)] = hit
    return hit[1]
