"""Connexion's request validation, made to report every problem as neutral `Problem`s.

Connexion validates each request against `openapi.yaml` before a handler runs, but stops at the
first error and raises `application/problem+json` exceptions with English sentences. The vendors
list every problem of a request, in their own words, so these validators collect all schema
errors and raise `InvalidRequest`; the vendor renderers pick status and text.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlencode

from connexion.datastructures import MediaTypeDict
from connexion.lifecycle import ConnexionRequest
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator
from starlette.datastructures import Headers, QueryParams
from starlette.types import Message, Receive, Scope

from codestand.core.errors import InvalidRequest, Problem, UnsupportedMediaType
from codestand.http.bodies import parse_form, parse_json
from codestand.http.schema_problems import (
    _cached_validator,
    may_have_problems,
    schema_problems,
)


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

VALIDATOR_MAP = {
    "parameter": ParamsValidator,
    "body": MediaTypeDict(
        {
            "*/*json": BodyValidator,
            "application/x-www-form-urlencoded": FormValidator,
        }
    ),
}
