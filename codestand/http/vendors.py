"""The one interface a vendor plugs into the pipeline through: its paths and its error renderer.

Each vendor package (`codestand.thoughtindustries`, `codestand.moltin`) and the control plane
describe themselves with a `Vendor`; `create_app` hands them to `install`, and the pipeline asks
`renderer_for` and `is_vendor_path` without naming any of them. The table is the same for every
app in a process (the vendors are code, not configuration), so it is kept here, not per app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from codestand.core.errors import CodestandError


class Renderer(Protocol):
    def __call__(self, error: CodestandError) -> "ErrorResponse": ...


class ErrorResponse:
    """What a renderer answers: status, body bytes (maybe empty) and headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {"content-type": "application/json"} if body else {}
        self.headers.update(headers or {})


@dataclass(frozen=True)
class Vendor:
    """A family of paths and the shape its errors take.

    `roots` are the bare first segments (`/v2`); `prefixes` the same with a slash (`/v2/`), so
    that `/v2promo` belongs to no one. `client_facing` paths are a vendor's: the journal records
    them and fault rules and `Prefer` apply to them; the control plane's are not.
    """

    name: str
    roots: tuple[str, ...]
    render: Renderer
    client_facing: bool = True
    # The control plane claims every path that starts with its root, `/__codestandx` too, as
    # the admin gate does.
    whole_segments: bool = True

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(root + "/" for root in self.roots)

    def owns(self, path: str) -> bool:
        if not self.whole_segments:
            return path.startswith(self.roots)
        return path.startswith(self.prefixes) or path in self.roots


class _Table:
    def __init__(self) -> None:
        self.vendors: tuple[Vendor, ...] = ()
        self.fallback: Renderer | None = None
        self.client_prefixes: tuple[str, ...] = ()
        self.client_roots: tuple[str, ...] = ()


_TABLE = _Table()


def install(vendors: tuple[Vendor, ...], fallback: Renderer) -> None:
    """Wire the vendors in; `fallback` renders paths of no one (the spec, Swagger UI, unknown
    paths). Their roots must not overlap, so a path belongs to one vendor at most."""
    roots = [root for vendor in vendors for root in vendor.roots]
    if len(roots) != len(set(roots)):
        raise ValueError(f"two vendors claim one root: {roots}")
    _TABLE.vendors = tuple(vendors)
    _TABLE.fallback = fallback
    client = [v for v in vendors if v.client_facing]
    _TABLE.client_prefixes = tuple(p for v in client for p in v.prefixes)
    _TABLE.client_roots = tuple(r for v in client for r in v.roots)


def renderer_for(path: str) -> Renderer:
    """The renderer of the vendor whose client sent `path`."""
    for vendor in _TABLE.vendors:
        if vendor.owns(path):
            return vendor.render
    assert _TABLE.fallback is not None, "create_app installs the vendors before serving"
    return _TABLE.fallback


def is_vendor_path(path: str) -> bool:
    """A path a vendor's client calls (known or not), as opposed to the control plane, the
    contract at `/openapi.json` and Swagger UI: what the journal records and faults apply to."""
    return path.startswith(_TABLE.client_prefixes) or path in _TABLE.client_roots


def vendor_of(path: str) -> str | None:
    """The name of the vendor (or the control plane) that `path` belongs to, if any."""
    for vendor in _TABLE.vendors:
        if vendor.owns(path):
            return vendor.name
    return None
