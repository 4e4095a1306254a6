"""Thought Industries' rate limits (vendor page "Rate limits"), counted for real.

- "Every API key is subject to a per-minute request quota": Standard 120 a minute with a burst
  allowance of 20, Enterprise 600 with 100. Counted per key, in windows on the minute by the
  stand-in's clock.
- "Individual endpoint categories have specific limits within the plan quotas": of the
  categories listed only `GET events` (100 a minute) has operations here, so the event feed is
  counted in both its key's window and that one, and its headers report the stricter.
- "Every response includes" `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
  (Unix seconds): on every response of a `/incoming/` path, errors and 304 included; a request
  without a usable key is counted by its client's address.
- Over the limit plus the burst, a 429 with `Retry-After` and the page's body
  (`{"error": "rate_limit_exceeded", "message": ..., "retryAfter": N}`) until the window resets.

Refusing is off unless `--rate-limits vendor` or the control plane turns it on for a tenant
(an instance); the counts and headers are there either way. A tenant's settings are the store's
(`tenant_setting`), and on a store several processes share so are the counts
(`core.ratelimit.StoreWindow`): every worker and replica counts a key into one window.
"""

from __future__ import annotations

import dataclasses

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codestand.core.errors import Problem, TooManyRequests
from codestand.core import tenants
from codestand.core.ratelimit import FixedWindow, Quota, StoreWindow
from codestand.http import offload
from codestand.http.auth import authorizations
from codestand.storage.base import StorageUnavailable
from codestand.thoughtindustries.keys import Key
from codestand.thoughtindustries.messages import render

PLANS = {"standard": (120, 20), "enterprise": (600, 100)}  # requests a minute, burst [doc]
EVENTS_LIMIT = 100  # "GET events: 100 per minute" [doc]
_EVENTS_PATH = "/incoming/v2/events/"


SETTING = "rate_limits"  # the tenant setting the control plane writes


class _NoSettings:
    shared = False

    def tenant_setting(self, tenant: str, name: str) -> None:
        return None


class TiState:
    """What Thought Industries keeps beside its records: declared keys, the rate-limit windows,
    and each tenant's rate-limit settings from the control plane (in the store)."""

    def __init__(self, keys: dict[str, Key], *, enforce: bool, store) -> None:
        self.keys = keys
        self.enforce = enforce
        self.store = store
        if store.shared:
            self.plan_window: FixedWindow = StoreWindow(store, "ti-plan", 60)
            self.events_window: FixedWindow = StoreWindow(store, "ti-events", 60)
        else:
            self.plan_window, self.events_window = FixedWindow(60), FixedWindow(60)
        self._offline: TiState | None = None

    def tenant_of(self, key: str) -> str:
        found = self.keys.get(key)
        return found.instance if found else key

    def limits(self, tenant: str, key: str | None = None) -> dict[str, object]:
        """A tenant's standing: whether limits refuse, and the plan (the control plane's for the
        tenant, else the one the keys file names for the key, else Standard)."""
        own = self.store.tenant_setting(tenants.ti(tenant), SETTING) or {}
        declared = self.keys[key].plan if key in self.keys else "standard"
        return {"enforced": own.get("enforced", self.enforce), "plan": own.get("plan", declared)}

    def set_limits(self, tenant: str, body: dict[str, object]) -> dict[str, object]:
        own = self.store.tenant_setting(tenants.ti(tenant), SETTING) or {}
        own.update({k: v for k, v in body.items() if k in ("enforced", "plan") and v is not None})
        self.store.set_tenant_setting(tenants.ti(tenant), SETTING, own)
        return self.limits(tenant)

    def offline(self) -> TiState:
        """Limits off and counts in the process, for while the store cannot be reached."""
        if self._offline is None:
            self._offline = TiState(self.keys, enforce=False, store=_NoSettings())
        return self._offline

    def reset(self) -> None:
        """Every tenant was reset (its settings with it, by the store): the counts go too."""
        self.plan_window.clear()
        self.events_window.clear()


def bearer_key(scope: Scope) -> str | None:
    given = authorizations(scope)
    if len(given) != 1 or given[0][:7].lower() != b"bearer ":
        return None
    key = given[0][7:].decode("latin-1").strip()
    return key or None


class RateLimits:
    """Counts every `/incoming/` request and puts the quota headers on its response.

    Sits outside Connexion's exception middleware, so it sees every answer, errors included,
    and answers its own 429 (rendered by the vendor's renderer) before anything else runs.
    """

    def __init__(self, app: ASGIApp, services) -> None:
        self.app = app
        self.services = services
        self.waits = services.store.waits  # the count reads (and may write) the store: off the loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith("/incoming/") or path == "/incoming"):
            await self.app(scope, receive, send)
            return
        quota = await offload.run(self.standing, scope) if self.waits else self.standing(scope)
        headers = [
            (b"x-ratelimit-limit", str(quota.limit).encode()),
            (b"x-ratelimit-remaining", str(quota.remaining).encode()),
            (b"x-ratelimit-reset", str(quota.reset).encode()),
        ]
        if not quota.allowed:
            answer = render(TooManyRequests(Problem("too_many_requests", params={"retry_after": quota.retry_after})))
            raw = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
            raw.append((b"content-length", str(len(answer.body)).encode()))
            await send({"type": "http.response.start", "status": 429, "headers": raw + headers})
            await send({"type": "http.response.body", "body": answer.body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def standing(self, scope: Scope) -> Quota:
        try:
            return self.count(scope, self.services.ti)
        except StorageUnavailable:
            # The request answers 503 by itself; its headers count in this process meanwhile.
            return self.count(scope, self.services.ti.offline())

    def count(self, scope: Scope, ti: TiState) -> Quota:
        now = self.services.clock.now()
        key = bearer_key(scope)
        if key is None:
            client = scope.get("client") or ("unknown", 0)
            bucket, standing = f"client:{client[0]}", {"enforced": ti.enforce, "plan": "standard"}
        else:
            bucket, standing = f"key:{key}", ti.limits(ti.tenant_of(key), key)
        limit, burst = PLANS[str(standing["plan"])]
        enforce = bool(standing["enforced"])
        if not (scope["method"] == "GET" and scope["path"].startswith(_EVENTS_PATH)):
            return ti.plan_window.hit(bucket, now, limit=limit, burst=burst, enforce=enforce)
        # Counted in both windows, or (refused) in neither.
        fits = ti.events_window.allows(bucket, now, limit=EVENTS_LIMIT) and ti.plan_window.allows(
            bucket, now, limit=limit, burst=burst
        )
        if enforce and not fits:
            events = ti.events_window.peek(bucket, now, limit=EVENTS_LIMIT)
            plan = ti.plan_window.peek(bucket, now, limit=limit)
            return dataclasses.replace(events if events.remaining <= plan.remaining else plan, allowed=False)
        events = ti.events_window.hit(bucket, now, limit=EVENTS_LIMIT, enforce=False)
        plan = ti.plan_window.hit(bucket, now, limit=limit, burst=burst, enforce=False)
        # The stricter of the two windows is what the headers report.
        return events if events.remaining <= plan.remaining else plan
