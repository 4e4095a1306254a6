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
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/__codestand"


class VendorCORS:
    """Starlette's `CORSMiddleware` for every path outside the control plane.

    Any request header is allowed (the preflight's `Access-Control-Request-Headers` is echoed):
    the Moltin SDK sends `X-MOLTIN-SDK-LANGUAGE`, `X-MOLTIN-SDK-VERSION`, `X-MOLTIN-APPLICATION`
    and more from release to release, and a stand-in should not refuse what the vendor takes.
    Echoing also names `Authorization`, which a `*` would not cover.
    """

    def __init__(self, app: ASGIApp, origins: Iterable[str] = ()) -> None:
        # Browsers send an origin without a trailing slash; people often paste one with it.
        allowed = [origin.rstrip("/") for origin in origins] or ["*"]
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=allowed, allow_methods=["*"], allow_headers=["*"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(CONTROL_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
