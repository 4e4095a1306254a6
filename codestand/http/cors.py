"""CORS for the vendor routes: browser apps call the vendors through their JavaScript SDKs.

A page that uses `@moltin/sdk` (or fetches Thought Industries from the browser) sends a preflight
before every request with an `Authorization` header. The preflight carries no credentials and
names no operation of the spec, so it is answered here, outside Connexion's exception, routing
and security middlewares; everything else passes through Starlette's `CORSMiddleware`, which
adds the `Access-Control-Allow-Origin` header to answers and errors alike.

The control plane (`/__codestand`) gets no CORS headers: it is steered by test code, not by
pages, and a page from another origin should neither read its answers nor send it JSON.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/__codestand"


class VendorCORS:
    """CORS for every path outside the control plane, as Starlette's `CORSMiddleware` does it.

    Any request header is allowed (the preflight's `Access-Control-Request-Headers` is echoed):
    the Moltin SDK sends `X-MOLTIN-SDK-LANGUAGE`, `X-MOLTIN-SDK-VERSION`, `X-MOLTIN-APPLICATION`
    and more from release to release, and a stand-in should not refuse what the vendor takes.
    Echoing also names `Authorization`, which a `*` would not cover.

    Preflights are Starlette's own answer. Other answers get the headers Starlette's simple
    response would add (`Vary: Origin` always; `Access-Control-Allow-Origin` for an allowed
    origin), added to the raw header list here: Starlette's version parses and rewrites the
    headers of every answer, a noticeable share of a request served in a few hundred
    microseconds.
    """

    def __init__(self, app: ASGIApp, origins: Iterable[str] = ()) -> None:
        # Browsers send an origin without a trailing slash; people often paste one with it.
        allowed = [origin.rstrip("/") for origin in origins] or ["*"]
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=allowed, allow_methods=["*"], allow_headers=["*"])
        self.any_origin = "*" in allowed
        self.allowed = frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        origin = None
        preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = origin or value
            elif name == b"access-control-request-method":
                preflight = True
        if origin is not None and preflight and scope["method"] == "OPTIONS":
            await self.cors(scope, receive, send)
            return
        allow = self._allow_origin(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_cors(message.get("headers", []), allow)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _allow_origin(self, origin: bytes | None) -> bytes | None:
        """The `Access-Control-Allow-Origin` value for a request from `origin`, if any."""
        if origin is None:
            return None
        if self.any_origin:
            return b"*"
        return origin if origin.decode("latin-1") in self.allowed else None


def _with_cors(headers: Iterable[tuple[bytes, bytes]], allow_origin: bytes | None) -> list[tuple[bytes, bytes]]:
    """`headers` with `Vary` naming `Origin` too, and the allowed origin when there is one."""
    kept: list[tuple[bytes, bytes]] = []
    vary: list[bytes] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"vary":
            vary.append(value)
        elif not (allow_origin is not None and lowered == b"access-control-allow-origin"):
            kept.append((name, value))
    if allow_origin is not None:
        kept.append((b"access-control-allow-origin", allow_origin))
    kept.append((b"vary", b", ".join([*vary, b"Origin"])))
    return kept
