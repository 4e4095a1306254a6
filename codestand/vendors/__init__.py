"""Per-vendor error shapes: each module holds one vendor's message table and its renderer."""

from __future__ import annotations

from typing import Protocol

from codestand.errors import CodestandError


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


def renderer_for(path: str) -> Renderer:
    """The vendor whose client sent `path`: the two vendors' prefixes never overlap.

    Paths of neither vendor (the spec, Swagger UI, unknown ones) answer in Thought Industries'
    shape, the plainer of the two.
    """
    from codestand.vendors import control, moltin, thoughtindustries

    if path.startswith(("/v2/", "/oauth/")) or path in ("/v2", "/oauth"):
        return moltin.render
    if path.startswith("/__codestand"):
        return control.render
    return thoughtindustries.render


_VENDOR_PREFIXES = ("/incoming/", "/v2/", "/oauth/")


def is_vendor_path(path: str) -> bool:
    """A path a vendor's client calls (known or not), as opposed to the control plane, the
    contract at `/openapi.json` and Swagger UI: what the journal records and faults apply to."""
    return path.startswith(_VENDOR_PREFIXES) or path in ("/incoming", "/v2", "/oauth")
