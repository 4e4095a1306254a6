"""Browsers cannot drive the control plane from another site.

A page may make a browser send a "simple" request anywhere without asking first (no CORS
preflight): a GET, or a POST whose body is text, a form or multipart, with no headers of its own.
The control plane answers no CORS, so a page cannot read the answers, but a POST alone can reset
the stand-in or redeem codes. So a request that changes state (any method but GET, HEAD and
OPTIONS) is refused with 403 when:

- it carries an `Origin` other than the server's own (`http://` and the `Host` it was sent to,
  which `HostCheck` has already checked); Swagger UI at `/__codestand/ui/` is the server's own;
- it carries `Sec-Fetch-Site` other than `same-origin` or `none` (what browsers send since 2020);
- it is a POST with neither a JSON body (`application/json`, `...+json`) nor the header
  `X-Codestand` (any value): no page can send either without a preflight, which fails.

PUT, PATCH and DELETE cannot be sent cross-site without a preflight at all. Test code (httpx,
requests, curl) sends no `Origin`; a POST without a body needs `-H 'X-Codestand: 1'`; the
pytest plugin sends it always. This follows OWASP's CSRF cheat sheet (custom request header,
`Origin` verification, Fetch Metadata).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.core.errors import Forbidden, Problem

PREFIX = "/__codestand"
HEADER = b"x-codestand"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class CrossSiteGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _SAFE and scope["path"].startswith(PREFIX):
            reason = refusal(scope)
            if reason is not None:
                raise Forbidden(Problem("cross_site", params={"reason": reason}))
        await self.app(scope, receive, send)


def refusal(scope: Scope) -> str | None:
    """Why this state-changing control request is refused, or None."""
    headers: dict[bytes, list[bytes]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, []).append(value)
    origins = headers.get(b"origin", [])
    if origins:
        own = {f"{scheme}://{host.decode('latin-1')}".lower() for scheme in ("http", "https") for host in headers.get(b"host", [])}
        if len(origins) != 1 or origins[0].decode("latin-1").lower() not in own:
            return "The control plane takes no requests from pages of another origin"
    for site in headers.get(b"sec-fetch-site", []):
        if site.lower() not in (b"same-origin", b"none"):
            return "The control plane takes no requests from pages of another site"
    if scope["method"] == "POST" and HEADER not in headers:
        media = b"".join(headers.get(b"content-type", [])[:1]).split(b";", 1)[0].strip().lower()
        if media != b"application/json" and not media.endswith(b"+json"):
            return "A POST to the control plane needs a JSON body or the header X-Codestand: 1"
    return None
