"""Moltin's rate limits (current/rate-limits.md): per store, in requests a second.

"Production store: 100 requests per second; Development store (Default): 25 requests per
second"; over it, a 429 in the vendor's error shape (errors.md). A store is a development store,
the documented default, unless the control plane makes it a production one. Counted per store
(the token's client_id) in one-second windows of the stand-in's clock (`core.ratelimit`); a
request without a live token is not counted (it gets its 401 anyway).

Off unless `--rate-limits vendor` (`CODESTAND_RATE_LIMITS`), so that test suites are never
throttled, or the control plane turns them on for one store
(`PUT /__codestand/moltin/tenants/{tenant}/rate-limits`, a tenant setting in the store, so
every worker and replica sees it; on a store they share, they count into one window too). The
JS SDKs retry a 429 after `attempt * retryDelay` ms (1 s by default), so a retried request
lands in a later window and gets through.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.context import services_of
from codestand.core import tenants
from codestand.core.errors import Problem, TooManyRequests
from codestand.core.ratelimit import FixedWindow, Quota, StoreWindow
from codestand.http import offload
from codestand.http.auth import authorizations
from codestand.moltin import tokens
from codestand.moltin.messages import render
from codestand.storage.base import StorageUnavailable

STORE_LIMITS = {"development": 25, "production": 100}  # requests a second [doc]
DEFAULT_KIND = "development"  # [doc]: the default store kind
SETTING = "rate_limits"  # the tenant setting the control plane writes


class MoltinLimits:
    """Whether each store's requests are refused over its limit, and its window."""

    def __init__(self, store, *, enforce: bool) -> None:
        self.store = store
        self.enforce = enforce
        self.window: FixedWindow = StoreWindow(store, "moltin", 1) if store.shared else FixedWindow(1)

    def limits(self, tenant: str) -> dict[str, object]:
        """A store's standing (`tenant` is the store key): the control plane's, else the server's."""
        own = self.store.tenant_setting(tenant, SETTING) or {}
        return {"enforced": own.get("enforced", self.enforce), "store_kind": own.get("store_kind", DEFAULT_KIND)}

    def set_limits(self, tenant: str, body: dict[str, object]) -> dict[str, object]:
        own = self.store.tenant_setting(tenant, SETTING) or {}
        own.update({k: v for k, v in body.items() if k in ("enforced", "store_kind") and v is not None})
        self.store.set_tenant_setting(tenant, SETTING, own)
        return self.limits(tenant)

    def reset(self) -> None:
        self.window.clear()

    def count(self, scope: Scope, token: str, clock) -> Quota | None:
        """The request's standing in its store's window, or None if it is not counted (no live
        token, or limits off for its store)."""
        try:
            found = tokens.resolve_once(scope, self.store, clock, token)
            if found is None:
                return None
            standing = self.limits(tenants.moltin(found.tenant))
            if not standing["enforced"]:
                return None
            limit = STORE_LIMITS[str(standing["store_kind"])]
            return self.window.hit(found.tenant, clock.now(), limit=limit, enforce=True)
        except StorageUnavailable:
            return None  # the request answers 503 by itself


class MoltinRateLimits:
    def __init__(self, app: ASGIApp, *, limits: MoltinLimits) -> None:
        self.app = app
        self.limits = limits
        self.waits = limits.store.waits  # the count reads (and may write) the store: off the loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)
            return
        given = authorizations(scope)
        # `Bearer <token>`, or old SDKs' `Bearer: <token>`.
        token = given[0].decode("latin-1").partition(" ")[2].strip() if len(given) == 1 else ""
        if token:
            clock = services_of(scope).clock
            quota = await offload.run(self.limits.count, scope, token, clock) if self.waits else self.limits.count(scope, token, clock)
            if quota is not None and not quota.allowed:
                answer = render(TooManyRequests(Problem("too_many_requests"), headers={"Retry-After": str(quota.retry_after)}))
                headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
                await send({"type": "http.response.start", "status": answer.status, "headers": headers})
                await send({"type": "http.response.body", "body": answer.body})
                return
        await self.app(scope, receive, send)
