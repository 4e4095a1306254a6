"""Conditional GET: `ETag` on every 200 of a Thought Industries GET, and `If-None-Match`
answered with 304 Not Modified while the tag is unchanged (vendor page "Status codes": "304 Not
Modified: resource unchanged since last request; use your cached version").

The tag is a digest of the body itself, so it changes exactly when what a client would read does
(a group's `redeemedCodesCount`, a new group on a list page); the vendor's own tag format is not
documented. A 304 keeps the response's headers but its body and `Content-*`.
"""

from __future__ import annotations

import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str, tag: str) -> bool:
    """RFC 9110, section 13.1.2: `*`, or any listed tag equal by weak comparison."""
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or tag in (c.removeprefix("W/") for c in candidates)


class ConditionalGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/incoming/"):
            await self.app(scope, receive, send)
            return
        wanted = b", ".join(v for k, v in scope["headers"] if k == b"if-none-match").decode("latin-1")
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    await send(message)
                    return
                start = message
                return
            if start is None:  # not a 200: passed through as it comes
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            tag = etag(body)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"etag"]
            headers.append((b"etag", tag.encode()))
            if wanted and _matches(wanted, tag):
                kept = [(k, v) for k, v in headers if not k.lower().startswith(b"content-")]
                await send({**start, "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
