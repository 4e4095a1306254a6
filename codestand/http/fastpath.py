"""Well-formed vendor requests, served without Connexion's per-request machinery.

Connexion builds and runs a stack of objects for every request (routing through mounts,
security, a URI parser, parameter and body validators, decorators) that costs several times what
the checks themselves do. This middleware, which sits inside Connexion's exception middleware
and the body limit, serves the common case from a table compiled once from the same contract:

- the same credential function (`x-bearerInfoFunc`) on the same `Authorization` header,
- every parameter of the operation through the same `ParamsValidator` check,
- a JSON body read, parsed with the same strict `parse_json` and checked against the same
  schema (resolved the way Connexion resolves it) by the same validator,
- the same handler with the same arguments, and the response serialized the way Connexion does.

Whatever is not that common case goes to Connexion unchanged, with the body replayed: a path or
method it did not compile, any query string, a `Prefer` header, a body that is not plain `application/json`, a
missing or refused credential, any parameter or body problem. So every refusal is still made,
and worded, by Connexion's path and `validation.py`; nothing is checked less. A handler's own
errors (not found, rules, conflicts) propagate to the exception middleware exactly as they do
from inside Connexion.
"""

from __future__ import annotations

import inspect
import re
import typing as t
from dataclasses import dataclass

from connexion.context import _context, _receive, _scope
from connexion.json_schema import resolve_refs
from connexion.jsonifier import JSONEncoder
from connexion.utils import get_function_from_name
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codestand.core.errors import InvalidRequest
from codestand.http import offload
from codestand.http.auth import authorizations
from codestand.http.bodies import parse_json
from codestand.http.schema_problems import schema_problems
from codestand.http.validation import ParamsValidator

_METHODS = ("get", "post")  # the methods whose handlers answer a JSON body
_HANDLER_ARGUMENTS = ("body", "user", "token_info")
_encode = JSONEncoder().encode  # Connexion's jsonifier: json.dumps with this encoder, then a newline


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    parameters: tuple[dict, ...]
    body_schema: dict | None
    credential: t.Callable
    handler: t.Callable
    arguments: frozenset[str]


def compile_routes(document: dict) -> dict[str, list[Route]]:
    """The operations of `document` this path can serve, by method."""
    spec = resolve_refs(document)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    base = (spec.get("servers") or [{"url": "/"}])[0]["url"].rstrip("/")
    routes: dict[str, list[Route]] = {}
    for template, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                route = _compile(base + template, item, item[method], schemes, spec.get("security"))
                if route is not None:
                    routes.setdefault(method.upper(), []).append(route)
    return routes


def _compile(template: str, item: dict, operation: dict, schemes: dict, default_security) -> Route | None:
    security = operation.get("security", default_security) or []
    if len(security) != 1 or len(security[0]) != 1:
        return None
    scheme = schemes.get(next(iter(security[0])), {})
    if scheme.get("type") != "http" or scheme.get("scheme") != "bearer" or "x-bearerInfoFunc" not in scheme:
        return None
    merged = {(p["name"], p["in"]): p for p in item.get("parameters", [])}
    merged.update({(p["name"], p["in"]): p for p in operation.get("parameters", [])})
    parameters = tuple(merged.values())
    for p in parameters:
        if p["in"] not in ("path", "query", "header"):
            return None
        if p["in"] != "query" and p.get("schema", {}).get("type") != "string":
            return None  # non-string path and header values would need Connexion's coercion
        if p["in"] == "path" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p["name"]):
            return None
    body_schema = None
    request_body = operation.get("requestBody")
    if request_body is not None:
        content = request_body.get("content", {})
        if "application/json" not in content or request_body.get("x-body-name", "body") != "body":
            return None
        body_schema = content["application/json"].get("schema")
        if not body_schema or not request_body.get("required"):
            return None
    handler = get_function_from_name(operation["operationId"])
    if not inspect.iscoroutinefunction(handler):
        return None
    path_names = {p["name"] for p in parameters if p["in"] == "path"}
    signature = inspect.signature(handler).parameters
    suppliable = path_names | set(_HANDLER_ARGUMENTS)
    for name, p in signature.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return None
        if name not in suppliable and p.default is p.empty:
            return None  # it needs a query parameter, which this path never passes
    pattern = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}/]+\})", template)
    )
    return Route(
        pattern=re.compile(f"^{pattern}$"),
        parameters=parameters,
        body_schema=body_schema,
        credential=get_function_from_name(scheme["x-bearerInfoFunc"]),
        handler=handler,
        arguments=frozenset(signature),
    )


class FastPath:
    """See the module's description. `routes` is built from the contract by `compile_routes`."""

    def __init__(self, app: ASGIApp, routes: dict[str, list[Route]], offload: bool = False) -> None:
        self.app = app
        self.routes = routes
        # The store's calls wait: the credential (a token is looked up in the store) and the
        # handler run in a worker thread (see offload.py).
        self.offload = offload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routes = self.routes.get(scope.get("method", "")) if scope["type"] == "http" else None
        # `Prefer: code=NNN` is answered inside Connexion, after validation (codestand/prefer.py).
        if not routes or scope.get("query_string") or _header(scope, b"prefer") is not None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        for route in routes:
            match = route.pattern.match(path)
            if match is not None:
                break
        else:
            await self.app(scope, receive, send)
            return

        body: t.Any = None
        messages: list[Message] = []
        if route.body_schema is not None:
            if _header(scope, b"content-type") != b"application/json":
                await self.app(scope, receive, send)
                return
            # The body is read whole (BodyLimit, outside, still cuts off one too large) and
            # replayed if Connexion is to handle the request after all.
            more = True
            while more:
                message = await receive()
                messages.append(message)
                more = message.get("more_body", False)
            receive = _replay(messages, receive)
            raw = b"".join(m.get("body", b"") for m in messages)
            if not raw.strip():
                await self.app(scope, receive, send)
                return
            try:
                body = parse_json(raw)
            except InvalidRequest:
                await self.app(scope, receive, send)
                return

        path_params = match.groupdict()
        scope["path_params"] = path_params
        info = await offload.run(_credential, route, scope) if self.offload else _credential(route, scope)
        if info is None or not _parameters_valid(route, path_params, scope) or (
            route.body_schema is not None and schema_problems(route.body_schema, body)
        ):
            await self.app(scope, receive, send)
            return

        kwargs: dict[str, t.Any] = {name: value for name, value in path_params.items() if name in route.arguments}
        if "body" in route.arguments and route.body_schema is not None:
            kwargs["body"] = body
        if "user" in route.arguments:
            kwargs["user"] = info.get("sub")
        if "token_info" in route.arguments:
            kwargs["token_info"] = info
        context = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
        context.update({"user": info.get("sub"), "token_info": info})
        _scope.set(scope)
        _receive.set(receive)
        _context.set(context)
        result = await (offload.run(offload.drive, route.handler, (), kwargs) if self.offload else route.handler(**kwargs))
        if isinstance(result, Response):  # a handler's own response, as Connexion passes it on
            await result(scope, receive, send)
            return
        await _respond(result, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.lower()
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = iter(messages)

    async def replayed() -> Message:
        for message in pending:
            return message
        return await receive()

    return replayed


class _ScopeOnly:
    """What the credential functions are handed here: they read `request.scope` and nothing else
    (codestand/auth.py), and a request object costs more to build than the check itself."""

    __slots__ = ("scope",)

    def __init__(self, scope: Scope) -> None:
        self.scope = scope


def _credential(route: Route, scope: Scope) -> dict | None:
    """What Connexion's bearer security would hand the handler, or None to let it decide."""
    # As Connexion reads it (BearerSecurityHandler.get_auth_header_value, through ColonBearer):
    # the first Authorization header, as Starlette decodes it, split once on whitespace.
    given = authorizations(scope)
    parts = given[0].decode("latin-1").split(maxsplit=1) if given else ()
    if len(parts) != 2 or parts[0].lower() not in ("bearer", "bearer:"):
        return None
    try:
        info = route.credential(parts[1], _ScopeOnly(scope))
    except Exception:  # noqa: BLE001  # a refusal of any kind is Connexion's to make and word
        return None
    return info if isinstance(info, dict) else None


def _parameters_valid(route: Route, path_params: dict[str, str], scope: Scope) -> bool:
    headers: Headers | None = None
    for param in route.parameters:
        where = param["in"]
        if where == "header" and headers is None:
            headers = Headers(scope=scope)
        value = path_params.get(param["name"]) if where == "path" else headers.get(param["name"]) if where == "header" else None
        if ParamsValidator._check(param, value):
            return False
    return True


async def _respond(result: t.Any, send: Send) -> None:
    """A handler's `dict` or `(dict, status)`, as Connexion's response decorator sends it."""
    data, status = result if isinstance(result, tuple) else (result, 200)
    body = (_encode(data) + "\n").encode() if data is not None else b""
    headers = [(b"content-type", b"application/json")] if data is not None else []
    headers.insert(0, (b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app, document: dict, *, offload: bool = False) -> None:
    """Serve `document`'s well-formed requests on the fast path (before Swagger UI and routing)."""
    from connexion.middleware import MiddlewarePosition

    app.add_middleware(FastPath, position=MiddlewarePosition.BEFORE_SWAGGER, routes=compile_routes(document), offload=offload)


__all__ = ["FastPath", "Route", "compile_routes", "install"]
