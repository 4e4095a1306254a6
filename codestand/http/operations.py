"""Connexion's handler wrapper, built once per operation instead of once per request.

Connexion 3.3's `AsyncOperation` builds its decorator stack on every request: a new
`StarletteDecorator`, the parameter and response decorators (each reading the handler's
signature with `inspect.signature`) and a URI parser for the operation's parameters. None of it
depends on the request, so this operation builds it on the first request and keeps it. The
request itself is handled exactly as before: same parsing of parameters and body, same
response serialization.
"""

from __future__ import annotations

import typing as t

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.lifecycle import ConnexionRequest
from connexion.operations import AbstractOperation
from starlette.types import Receive, Scope, Send

from codestand.http.offload import off_loop


class _Decorator(StarletteDecorator):
    def __call__(self, function: t.Callable) -> t.Callable:
        decorated = self.decorate(function)
        parser = None

        async def wrapper(scope: Scope, receive: Receive) -> t.Any:
            nonlocal parser
            if parser is None:
                parser = self.uri_parser  # reads the operation from Connexion's request context
            return await decorated(ConnexionRequest(scope, receive, uri_parser=parser))

        return wrapper


class Operation(AsyncOperation):
    _wrapped: t.Callable | None = None
    offload = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wrapped = self._wrapped
        if wrapped is None:
            handler = off_loop(self._fn) if self.offload else self._fn
            wrapped = self._wrapped = _Decorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(handler)
        response = await wrapped(scope, receive)
        await response(scope, receive, send)


class Api(AsyncApi):
    offload = False

    def make_operation(self, operation: AbstractOperation) -> Operation:
        made = Operation.from_operation(operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        made.offload = self.offload
        return made


def install(app: AsyncApp, *, offload: bool = False) -> None:
    """Use `Operation` for the APIs added from now on (call before `add_api`); with `offload`,
    handlers run in worker threads (`offload.off_loop`)."""
    app._middleware_app.api_cls = type("Api", (Api,), {"offload": offload})  # type: ignore[attr-defined]  # Connexion 3.3's routed app
