"""`Prefer: code=NNN`: a vendor route answers its documented response of that status.

As with Stoplight Prism's header of the same name, a client can ask for any response the
contract documents without arranging the state that would cause it. The request is still
authenticated and validated first, so a request that is wrong gets its real error; then, instead
of the handler, the answer is:

- an error status: the generic error of that status in the vendor's shape, by the one error path;
- a success status: the response's `example`, else a body built from its schema
  (`codestand.control.examples`), or no body when the response has no content (204).

Nothing is stored or changed. A status the operation does not document is a 404 naming the
statuses it does, as Prism answers (`NOT_FOUND`, "Requested status code is not defined"). 500 counts
as documented everywhere: the one error path can answer it on any route. Other preferences in the
header (and a `code` that is not three digits) are ignored, as RFC 7240 asks of preferences a
server does not support. A response that honoured the header says so in `Preference-Applied`.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.control.examples import ResponseCatalog
from codestand.core.errors import BY_STATUS, NotFound, Problem, error_for_status
from codestand.http.vendors import is_vendor_path

_CODE = re.compile(r"""(?:^|[,;])\s*code\s*=\s*"?(\d{3})"?\s*(?=[,;]|$)""", re.IGNORECASE)
# Every route can fail unexpectedly; its 500 is the vendor's documented shape.
ALWAYS_DOCUMENTED = (500,)


def preferred_code(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"prefer":
            found = _CODE.search(value.decode("latin-1"))
            if found:
                return int(found.group(1))
    return None


class PreferCode:
    """Sits after routing, security and request validation (Connexion's `BEFORE_CONTEXT`), so
    it knows the operation and only sees requests that would have reached their handler."""

    def __init__(self, app: ASGIApp, responses: ResponseCatalog, body_limit: int) -> None:
        self.app = app
        self.responses = responses
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code = preferred_code(scope["headers"]) if scope["type"] == "http" and is_vendor_path(scope["path"]) else None
        operation_id = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        documented = self.responses.statuses(operation_id) if code and operation_id else None
        if code is None or operation_id is None or documented is None:
            await self.app(scope, receive, send)
            return
        # Error statuses are answered with the generic error of the status, so only those that
        # have one are offered (every one the contract documents has).
        offered = sorted({*(c for c in documented if c < 400 or c in BY_STATUS), *ALWAYS_DOCUMENTED})
        if code not in offered:
            listed = ", ".join(map(str, offered))
            raise NotFound(Problem("prefer_undocumented", params={"code": code, "documented": listed}))
        if code >= 400:
            raise error_for_status(code, headers={"Preference-Applied": f"code={code}"}, limit=self.body_limit)
        await self._answer(send, operation_id, code)

    async def _answer(self, send: Send, operation_id: str, code: int) -> None:
        media_type, body = self.responses.body(operation_id, code)
        headers = [(b"preference-applied", f"code={code}".encode())]
        payload = b""
        if media_type is not None:
            payload = json.dumps(body).encode() if media_type.endswith("json") else str(body or "").encode()
            headers.append((b"content-type", media_type.encode()))
        if code != 204:
            headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
