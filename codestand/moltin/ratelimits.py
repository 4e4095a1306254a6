"""Moltin's rate limits (current/rate-limits.md): per store, in requests a second.

"Production store: 100 requests per second; Development store (Default): 25 requests per
second"; over it, a 429 in the vendor's error shape (errors.md). Every store here is a
development store, the documented default. Counted per store (the token's client_id) in
one-second windows of the stand-in's clock (`core.ratelimit`); a request without a live token
is not counted (it gets its 401 anyway).

Off unless `--rate-limits vendor` (`CODESTAND_RATE_LIMITS`), so that test suites are never
throttled. The JS SDKs retry a 429 after `attempt * retryDelay` ms (1 s by default), so a
retried request lands in a later window and gets through.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.context import services_of
from codestand.core.errors import Problem, TooManyRequests
from codestand.core.ratelimit import FixedWindow
from codestand.http.auth import authorizations
from codestand.moltin import tokens
from codestand.moltin.messages import render

STORE_LIMITS = {"development": 25, "production": 100}  # requests a second [doc]
DEFAULT_KIND = "development"  # [doc]: the default store kind


class MoltinRateLimits:
    def __init__(self, app: ASGIApp, *, enforce: bool) -> None:
        self.app = app
        self.enforce = enforce
        self.window = FixedWindow(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enforce or scope["type"] != "http" or not scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)
            return
        services = services_of(scope)
        given = authorizations(scope)
        # `Bearer <token>`, or old SDKs' `Bearer: <token>`.
        token = given[0].decode("latin-1").partition(" ")[2].strip() if len(given) == 1 else ""
        found = tokens.resolve(services.store, services.clock, token) if token else None
        if found is not None:
            quota = self.window.hit(found.tenant, services.clock.now(), limit=STORE_LIMITS[DEFAULT_KIND], enforce=True)
            if not quota.allowed:
                answer = render(TooManyRequests(Problem("too_many_requests"), headers={"Retry-After": str(quota.retry_after)}))
                headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
                await send({"type": "http.response.start", "status": answer.status, "headers": headers})
                await send({"type": "http.response.body", "body": answer.body})
                return
        await self.app(scope, receive, send)
