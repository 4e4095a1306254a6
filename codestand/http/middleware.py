"""Small ASGI middlewares around Connexion's stack."""

from __future__ import annotations

import hmac
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codestand.context import SCOPE_KEY, Services
from codestand.core.errors import NotFound, PayloadTooLarge, Problem, Unauthorized
from codestand.core.redaction import loggable_path
from codestand.http.auth import authorizations
from codestand.http.vendors import is_vendor_path, vendor_of

access_log = logging.getLogger("codestand.access")


class ServicesAndLog:
    """Outermost: hands each request the app's services, then counts it (metrics) and logs it
    once it is answered."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.log = services.settings.access_log
        self.metrics = services.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = self.services
        if not self.log and self.metrics is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe(scope["method"], scope["path"], status, seconds)
            if self.log:
                _log_request(scope, status, seconds, self.metrics)


def _log_request(scope: Scope, status: int, seconds: float, metrics) -> None:
    # A connection closed without an answer (a `drop` fault, a client gone) has no status.
    # A control-plane path may name a tenant by its Thought Industries key: a secret.
    path = loggable_path(scope["path"])
    millis = seconds * 1000
    request = {"method": scope["method"], "path": path, "status": status or None, "duration_ms": round(millis, 1)}
    if metrics is not None:
        request["vendor"] = vendor_of(scope["path"])
        request["operation"] = metrics.operations.name(scope["method"], scope["path"])
    access_log.info("%s %s %s %.1fms", scope["method"], path, status or "-", millis, extra={"request": request})


class BodyLimit:
    """Refuses bodies over `limit` bytes with 413, before they are read whole.

    Sits inside Connexion's exception middleware, so the refusal is rendered in the vendor's
    shape like every other error. A declared Content-Length is checked at once; a body that
    streams past the limit is cut off as soon as it does. Before the body is looked at, the
    Content-Type is put in the form Connexion expects (see `_normal_content_type`).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = _normal_content_type(scope)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                raise PayloadTooLarge(Problem("payload_too_large", params={"limit": self.limit}))
        seen = 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise PayloadTooLarge(Problem("payload_too_large", params={"limit": self.limit}))
            return message

        await self.app(scope, receive_limited, send)


class AdminGate:
    """With `--admin-token`, control-plane routes (and their spec and UI) need that bearer token."""

    PREFIX = "/__codestand"

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.PREFIX):
            # Exactly one Authorization header: of several, the one checked would be a guess.
            given = authorizations(scope)
            if len(given) != 1 or not hmac.compare_digest(given[0][:7].lower() + given[0][7:], self.expected):
                raise Unauthorized()
        await self.app(scope, receive, send)


def _normal_content_type(scope: Scope) -> Scope:
    """The Content-Type as Connexion needs it: `Application/JSON; charset=utf-8` becomes
    `application/json; charset=utf-8`, and a request without a body has none.

    Media types are case-insensitive (RFC 9110, section 8.3.1), but Connexion looks up the body
    schema and its parser by the exact string: a mixed-case JSON type got no validation and
    reached the handler as bytes. And Connexion parses a form for any request labelled as one,
    even a GET without a body: `multipart/form-data` without a boundary was a 400 "Bad request."
    """
    headers = scope["headers"]
    has_body = any(
        (name == b"content-length" and value.strip() not in (b"", b"0")) or (name == b"transfer-encoding")
        for name, value in headers
    )
    for index, (name, value) in enumerate(headers):
        if name == b"content-type":
            media_type, separator, parameters = value.partition(b";")
            normal = media_type.strip().lower()
            if not has_body:
                scope = dict(scope)
                scope["headers"] = [*headers[:index], *headers[index + 1 :]]
            elif normal != media_type:
                scope = dict(scope)
                scope["headers"] = [*headers[:index], (name, normal + separator + parameters), *headers[index + 1 :]]
            break
    return scope


# No path of either vendor's contract comes near this (the longest, a Moltin code in a path,
# is under 400 characters; an unknown id of thousands still gets the vendor's own 404); a
# longer one is a 404 before fault rules and the journal's filters look at it, so that no
# request makes them walk a path of megabytes. (Control paths are matched by no glob; a tenant
# too long is a 400 naming it.)
MAX_PATH = 8192


class EncodedSlashes:
    """A path with an encoded slash (`%2F`), or a vendor path longer than `MAX_PATH`, is a 404,
    before routing decodes it.

    No id of either vendor and no tenant of the control plane holds a `/`; decoded, the slash
    would choose another operation (`DELETE /v2/promotions/{id}%2Fcodes%2FX` would delete code
    X). Apache answers such paths 404 by default too (`AllowEncodedSlashes Off`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or b""
            if b"%2F" in raw or b"%2f" in raw or (len(scope["path"]) > MAX_PATH and is_vendor_path(scope["path"])):
                raise NotFound()
        await self.app(scope, receive, send)
