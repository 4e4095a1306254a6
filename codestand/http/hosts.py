"""Answer only to the host names the stand-in is meant to be called by.

A page on any site can make a browser call a stand-in on the developer's machine; with DNS
rebinding (the page's own name made to resolve to 127.0.0.1) the browser even treats the
answers as the page's own and lets it read them: the journal, snapshots, generated codes. What
gives such a request away is its `Host` header, which carries the page's name. So every request
must name one of: the loopback names (`localhost`, `127.0.0.1`, `::1`), the address the server
is bound to, and what `--allowed-host` adds (`*`: any name, for a trusted network behind a proxy
that checks names itself). Anything else, a missing `Host` and several `Host` headers included,
is a 400 in the shape of whichever vendor the path belongs to, before anything else looks at the
request: Django's `ALLOWED_HOSTS` and Vite's `server.allowedHosts` do the same.

It also makes the links the vendor routes build from the request's host (Moltin's `links`)
point at a name the server was configured for, never at one a client made up.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.core.errors import InvalidRequest, Problem
from codestand.http.vendors import renderer_for

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})
ANY = "*"


def allowed_names(bound: str, extra: Iterable[str]) -> frozenset[str] | None:
    """The names a request may give in `Host`; None: any name."""
    names = {_normal(name) for name in extra}
    if ANY in names:
        return None
    names |= LOOPBACK_NAMES
    if _normal(bound) not in WILDCARD_ADDRESSES:
        names.add(_normal(bound))
    return frozenset(names)


def host_name(value: str) -> str:
    """The name in a `Host` value, without its port, brackets, case or trailing dot."""
    value = value.strip()
    if value.startswith("["):
        name = value[1 : value.find("]")] if "]" in value else value
    else:
        name, _, port = value.rpartition(":")
        if not name or not port.isdigit():
            name = value if not value.endswith(":") else value[:-1]
    return _normal(name)


def _normal(name: str) -> str:
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name.rstrip(".") if name not in (".",) else name


class HostCheck:
    """Refuses requests whose `Host` names no allowed name; see the module's docstring.

    Sits outside Connexion's stack (only the services and the access log come before it, so
    the refusal is logged), and answers by itself in the path's vendor's error shape.
    """

    def __init__(self, app: ASGIApp, names: frozenset[str] | None) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.names is None:
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) == 1 and host_name(hosts[0].decode("latin-1")) in self.names:
            await self.app(scope, receive, send)
            return
        given = hosts[0].decode("latin-1")[:100] if len(hosts) == 1 else ("several" if hosts else "none")
        rendered = renderer_for(scope["path"])(InvalidRequest(Problem("unknown_host", params={"host": given})))
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in rendered.headers.items()]
        headers.append((b"content-length", str(len(rendered.body)).encode()))
        await send({"type": "http.response.start", "status": rendered.status, "headers": headers})
        await send({"type": "http.response.body", "body": rendered.body})
