"""Connexion's request validation, made to report every problem as neutral `Problem`s.

Connexion validates each request against `openapi.yaml` before a handler runs, but stops at the
first error and raises `application/problem+json` exceptions with English sentences. The vendors
list every problem of a request, in their own words, so these validators collect all schema
errors and raise `InvalidRequest`; the vendor renderers pick status and text.
"""

from __future__ import annotations

import json
import math
import re
import typing as t
import uuid
from datetime import date
from urllib.parse import parse_qsl, urlencode

import jsonschema
import jsonschema_rs
from connexion.datastructures import MediaTypeDict
from connexion.lifecycle import ConnexionRequest
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.types import Message, Receive, Scope

from codestand.core.clock import parse_datetime
from codestand.core.errors import InvalidRequest, Problem, UnsupportedMediaType

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


def _reject_constant(name: str) -> t.NoReturn:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # `1e400` overflows to infinity, which would be answered (or stored, then answered) as
    # `Infinity`: not JSON either.
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value


# Deeper than any body of either contract (a snapshot nests 7 levels), far below the depth at
# which answering a stored value would exceed Python's recursion limit.
MAX_DEPTH = 64


def _depth_exceeds(value: t.Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` containers deep, level by level (no recursion)."""
    level: list[t.Any] = [value]
    for _ in range(limit):
        deeper = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        if not deeper:
            return False
        level = deeper
    return True


def _has_nul(value: t.Any) -> bool:
    """Whether a string value holds a NUL character. Names of fields may: an unknown one is
    passed over, and the free-form objects that keep theirs (a promotion's `schema`) are stored
    as JSON text, where a NUL is the escape `\\u0000`."""
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _no_duplicate_keys(pairs: list[tuple[str, t.Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(raw: bytes, encoding: str = "utf-8") -> t.Any:
    """A JSON body as the handlers and stores can take it, or `InvalidRequest` saying why not.

    Beyond what JSON itself forbids (and NaN, Infinity and duplicate keys, which Python's parser
    accepts), refused: numbers beyond a double's range, a lone surrogate (no character), NUL
    characters (no label, code or id holds one, and stores disagree about them: PostgreSQL's
    text refuses them, SQLite's string functions stop at them), and nesting deeper than
    `MAX_DEPTH`. The checks past parsing run only when the text could hold what they look for.
    """
    try:
        text = raw.decode(encoding)
        body = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_no_duplicate_keys
        )
        if _SURROGATE_ESCAPE.search(text):
            # `"\ud800"` alone is valid JSON but no character: no store could keep it as text.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, LookupError):
        raise InvalidRequest(Problem("encoding"))
    except RecursionError:
        raise InvalidRequest(Problem("malformed_json"))
    except ValueError:
        raise InvalidRequest(Problem("malformed_json"))
    if "\\u0000" in text and _has_nul(body):
        raise InvalidRequest(Problem("nul_character"))
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(body, MAX_DEPTH):
        raise InvalidRequest(Problem("too_deep", params={"limit": MAX_DEPTH}))
    return body


def _check_body_present(scope: Scope, *, required: bool) -> None:
    """A body without a Content-Type is a 415: Connexion would validate it as the operation's
    first media type (JSON or a form) and hand the handler raw bytes. A required body that is
    missing is a 400."""
    headers = Headers(scope=scope)
    has_body = int(headers.get("content-length") or 0) > 0 or "chunked" in headers.get("transfer-encoding", "")
    if has_body and "content-type" not in headers:
        raise UnsupportedMediaType()
    if required and not has_body:
        raise InvalidRequest(Problem("body_required"))


class BodyValidator(JSONRequestBodyValidator):
    """JSON bodies: parse strictly, then report every schema problem at once."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        _check_body_present(scope, required=self._required)
        # Connexion's own wrap_receive takes a body without Content-Length for a missing one, which
        # refuses every chunked request; read the stream here and replay it to the handler.
        messages: list[Message] = []

        async def stream() -> t.AsyncGenerator[bytes, None]:
            more_body = True
            while more_body:
                message = await receive()
                messages.append(message)
                more_body = message.get("more_body", False)
                yield message.get("body", b"")

        body = await self._parse(stream(), scope=scope)
        if not (body is None and self._nullable):
            self._validate(body)
        return self._insert_messages(receive, messages=messages), scope

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            if self._required:
                raise InvalidRequest(Problem("body_required"))
            return None
        # JSON exchanged between systems is UTF-8 (RFC 8259, section 8.1), and the handler's parser
        # reads it as such whatever charset the Content-Type claims: validate the same text.
        return parse_json(raw)

    def _validate(self, body: t.Any) -> None:
        problems = schema_problems(self._schema, body)
        if problems:
            raise InvalidRequest(*problems)


# Starlette's form parser, which reads the form again for the handler, stops at this many.
MAX_FORM_FIELDS = 1000


def parse_form(raw: bytes, once: t.Collection[str] = ()) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body, or `InvalidRequest` saying why not.

    Text is UTF-8, escaped or not; a value with a NUL character is refused, and so are more than
    `MAX_FORM_FIELDS` fields and a field of `once` sent twice ("Request and response parameters
    MUST NOT be included more than once", RFC 6749, section 3.1: the form is the OAuth token
    request). Of another field sent twice the last counts, as in Starlette's parser; fields
    without a name name nothing and are passed over.
    """
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except UnicodeError:
        raise InvalidRequest(Problem("encoding")) from None
    except ValueError:
        raise InvalidRequest(Problem("too_many_fields", params={"limit": MAX_FORM_FIELDS})) from None
    form: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in pairs:
        if "\0" in value:
            problems.append(Problem("nul_character"))
        elif name in form and name in once:
            problems.append(Problem("duplicate_parameter", name))
        elif name:
            form[name] = value
    if problems:
        raise InvalidRequest(*problems)
    return form


class FormValidator(FormDataValidator):
    """Form bodies (the OAuth token endpoint): every problem at once, never a 500.

    The form is read with `parse_form`, and the handler is handed it again in its canonical
    form (every byte beyond ASCII escaped), so that Starlette's parser, which reads unescaped
    bytes as Latin-1, reads the same text.
    """

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        _check_body_present(scope, required=self._required)
        chunks = []
        more_body = True
        while more_body:
            message = await receive()
            chunks.append(message.get("body", b""))
            more_body = message.get("more_body", False)
        form = parse_form(b"".join(chunks), once=self._schema.get("properties", {}))
        self._validate(form)
        canonical = urlencode(list(form.items())).encode("ascii")
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"transfer-encoding")]}
        scope["headers"].append((b"content-length", str(len(canonical)).encode()))
        return self._insert_messages(receive, messages=[{"type": "http.request", "body": canonical, "more_body": False}]), scope

    def _validate(self, body: t.Any) -> None:
        problems = schema_problems(self._schema, body)
        if problems:
            raise InvalidRequest(*problems)


class ParamsValidator(ParameterValidator):
    """Query, path and header parameters, each problem naming its parameter."""

    def validate_request(self, request: ConnexionRequest) -> None:
        problems: list[Problem] = []
        if request.scope.get("query_string"):
            # Every query parameter of both contracts is one value: of two, which one counts
            # would be a guess.
            query = QueryParams(request.scope["query_string"])
            problems += [
                Problem("duplicate_parameter", p["name"])
                for p in self.parameters.get("query", [])
                if len(query.getlist(p["name"])) > 1
            ]
        for location, read in (
            ("query", lambda name: request.query_params.get(name)),
            ("path", lambda name: request.path_params.get(name.replace("-", "_"))),
            ("header", lambda name: request.headers.get(name)),
        ):
            for param in self.parameters.get(location, []):
                problems.extend(self._check(param, read(param["name"])))
        if problems:
            raise InvalidRequest(*problems)

    @staticmethod
    def _check(param: dict, value: t.Any) -> list[Problem]:
        name = param["name"]
        if value is None:
            return [Problem("required_parameter", name)] if param.get("required") else []
        schema = param.get("schema", {})
        if not may_have_problems(schema, value):
            return []
        errors = list(_cached_validator(schema).iter_errors(value))
        if not errors:
            return []
        # The validator's own sentence, and what a vendor needs to say it in its words: which
        # rule failed, its limit, the formats the parameter may take.
        error = errors[0]
        params: dict[str, t.Any] = {"message": error.message, "rule": error.validator}
        if error.validator == "anyOf":
            formats = [b.get("format") or b.get("x-format") for b in error.validator_value if isinstance(b, dict)]
            params["format"] = "|".join(f for f in formats if f)
        elif error.validator == "format":
            params["format"] = error.validator_value
        elif not isinstance(error.validator_value, (dict, list)):
            params["limit"] = error.validator_value
        return [Problem("parameter", name, params)]


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


VALIDATOR_MAP = {
    "parameter": ParamsValidator,
    "body": MediaTypeDict(
        {
            "*/*json": BodyValidator,
            "application/x-www-form-urlencoded": FormValidator,
        }
    ),
}
