"""The request journal: the last N vendor requests with their answers, secrets left out.

Tests read it to see what their client really sent (`GET /__codestand/journal`). It is a
bounded deque: memory does not grow with the number of requests, and each body is kept up to
`BODY_LIMIT` bytes. Only vendor paths are recorded (`vendors.is_vendor_path`): the control
plane steering the stand-in, the contract and Swagger UI are not what a test wants to see.

One journal per app; a server running several worker processes would have one per process.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codestand.core import globs, tenants
from codestand.core.clock import Clock, iso_millis
from codestand.core.errors import InvalidRequest
from codestand.core.redaction import fingerprint
from codestand.http.bodies import parse_json
from codestand.http.middleware import MAX_PATH
from codestand.http.vendors import is_vendor_path

DEFAULT_SIZE = 1000
# Per body: a page of 100 Moltin promotions is larger, but a test asserting on it has the
# response already; the journal is for seeing what was sent.
BODY_LIMIT = 8192
REDACTED = "[redacted]"
# Credentials: the token request's secret and the token it answers. Bearer keys, tokens and
# the admin token only ever travel in headers, which are redacted by name; a Thought Industries
# key, which is also its tenant's name, is kept as its fingerprint (`redaction.fingerprint`).
SECRET_FIELDS = frozenset({"client_secret", "access_token"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# The same fields in a body that could not be parsed (cut at the limit, or malformed), and in
# a query: a JSON member whose (unescaped) name is one of them, a form field whose (decoded)
# name is, as the server itself would read it: `client%5Fsecret=` is `client_secret=`.
_JSON_MEMBER = re.compile(r"""(?P<key>"(?:[^"\\]|\\.)*")(?P<colon>\s*:\s*)"(?:[^"\\]|\\.)*"?""")
# A name starts the text or follows a delimiter: anchored so, a long run without `=` is
# scanned once, not once from each of its characters.
_FORM_FIELD = re.compile(r"(?:^|(?<=[&?\s]))(?P<name>[^=&\s?]+)=(?P<value>[^&\s]*)")
# The shortest start of a configured secret that a body cut at the limit may end with and that
# is still scrubbed: shorter ones say nothing of the secret.
_SECRET_START = 4


class Journal:
    """The last `size` requests, oldest first inside; `size` 0 records nothing.

    A request is kept as it passed (raw header lists, the first bytes of each body) and turned
    into its JSON entry, decoded and redacted, only when someone reads the journal: recording
    stays a few appends on the request's path, whatever the bodies hold.
    """

    def __init__(self, size: int = DEFAULT_SIZE, secrets: Iterable[str | None] = ()) -> None:
        self._entries: deque[Recorded] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self.secrets = secret_forms(secrets)

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def record(self, recorded: Recorded) -> None:
        if self.size:
            recorded.id = next(self._ids)
            self._entries.append(recorded)

    def clear(self) -> None:
        self._entries.clear()

    def span(self) -> tuple[int, int | None]:
        """How many entries are kept, and the oldest one's id, without rendering any: ids only
        grow and entries leave only oldest first or all at once, so this says whether any left."""
        return len(self._entries), (self._entries[0].id if self._entries else None)

    def entries(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        status: str | None = None,
        tenant: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first. `path` is a glob (see `globs`) when it has `*` or `?`, else a substring;
        `status` is a status (`404`) or a class (`4xx`)."""
        found: Iterable[dict[str, Any]] = self._newest_first()
        if path is not None:
            found = (e for e in found if _path_matches(path, e["path"]))
        if method is not None:
            found = (e for e in found if e["method"] == method.upper())
        if status is not None:
            found = (e for e in found if _status_matches(status, e["status"]))
        if tenant is not None:
            # A Thought Industries tenant is kept as its key's fingerprint; either finds it.
            names = (tenant, fingerprint(tenant))
            found = (e for e in found if e["tenant"] in names)
        return list(itertools.islice(found, limit))

    # Recorded before the answer's last bytes go out rather than after: a journal in a shared
    # store is read by other processes, which must see a request once its client has the answer.
    record_before_answer = False

    def _newest_first(self) -> Iterable[dict[str, Any]]:
        return (self._entry(r) for r in reversed(self._entries))

    async def record_async(self, recorded: Recorded) -> None:
        """`record`, for the event loop: a journal kept in a shared store writes off the loop."""
        self.record(recorded)

    def _entry(self, recorded: Recorded) -> dict[str, Any]:
        entry = recorded.entry()
        if not self.secrets:
            return entry
        entry = scrub(entry, self.secrets)
        for part in ("request", "response"):
            if entry[part]["truncated"] and isinstance(entry[part]["body"], str):
                entry[part]["body"] = cut_secret(entry[part]["body"], self.secrets)
        return entry


def cut_secret(text: str, secrets: frozenset[str]) -> str:
    """A body cut at the limit may end in the start of a secret: that start is redacted too."""
    for secret in secrets:
        for length in range(len(secret) - 1, _SECRET_START - 1, -1):
            if text.endswith(secret[:length]):
                return text[:-length] + REDACTED
    return text


def _path_matches(pattern: str, path: str) -> bool:
    # A path over MAX_PATH was answered 404 unread; matching its start keeps a filter over a
    # thousand such entries fast.
    return globs.matches(pattern, path[: MAX_PATH + 1]) if globs.is_glob(pattern) else pattern in path


def _status_matches(wanted: str, status: int | None) -> bool:
    if status is None:
        return False
    if wanted.lower().endswith("xx"):
        return str(status)[0] == wanted[0]
    return str(status) == wanted


def _kept(head: bytes | bytearray, chunk: bytes) -> tuple[bytes | bytearray, bool]:
    """`head` with as much of `chunk` as `BODY_LIMIT` leaves room for, and whether any was cut.

    Most bodies are one chunk, kept as it came; later chunks go into a bytearray (a client
    dribbling a body byte by byte would otherwise cost a copy of the whole head per byte).
    """
    room = BODY_LIMIT - len(head)
    truncated = len(chunk) > room
    if truncated:
        chunk = chunk[:room]
    if not head:
        return chunk, truncated
    if isinstance(head, bytes):
        head = bytearray(head)
    head += chunk
    return head, truncated


def _decoded(head: bytes, truncated: bool, content_type: str) -> Any:
    """JSON as JSON, a form as its fields, anything else as text; secrets redacted."""
    if not head:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    text = head.decode("utf-8", errors="replace")
    if not truncated:
        if media == "application/json" or media.endswith("+json"):
            # Read as the server reads it: a body it refuses (nested too deep for an answer
            # to carry, not JSON) is kept as text.
            try:
                return redact(parse_json(head))
            except InvalidRequest:
                pass
        elif media == "application/x-www-form-urlencoded":
            return redact(dict(parse_qsl(text, keep_blank_values=True)))
    return redact_text(text)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_text(text: str) -> str:
    def member(m: re.Match) -> str:
        try:
            name = json.loads(m["key"])
        except ValueError:
            return m[0]
        return f'{m["key"]}{m["colon"]}"{REDACTED}"' if name in SECRET_FIELDS else m[0]

    def field(m: re.Match) -> str:
        return f"{m['name']}={REDACTED}" if unquote_plus(m["name"]) in SECRET_FIELDS else m[0]

    return _FORM_FIELD.sub(field, _JSON_MEMBER.sub(member, text))


def secret_forms(secrets: Iterable[str | None]) -> frozenset[str]:
    """Each configured secret as a client may have sent it: as it is, percent-encoded (a form
    field, a query, a path) and escaped in a JSON string."""
    forms = set()
    for secret in filter(None, secrets):
        forms |= {secret, quote(secret, safe=""), quote_plus(secret), quote(secret), json.dumps(secret)[1:-1]}
    return frozenset(forms)


def scrub(value: Any, secrets: frozenset[str]) -> Any:
    """`value` with every occurrence of a known secret (the admin token, the Moltin clients'
    secrets, each also encoded) redacted, wherever a client put it: sent as a vendor key, it
    would otherwise be kept as the tenant; inside a refused `client_id`, in the error's echo."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        value = REDACTED if name in SECRET_HEADERS else value_bytes.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


class Recorded:
    """One request as it passed; `entry()` is its JSON form, decoded and redacted.

    Held as few objects as possible (bodies as bytes, the tenant as a string once answered): a
    thousand of them outlive every request in between, and each live object is one more for
    the garbage collector to walk.
    """

    __slots__ = ("id", "at", "method", "path", "query", "context", "tenant", "status", "duration_ms",
                 "request_headers", "request_body", "request_truncated",
                 "response_headers", "response_body", "response_truncated")  # fmt: skip

    def __init__(self, at: datetime, scope: Scope, context: dict[str, Any]) -> None:
        self.id = 0
        self.at = at
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query: bytes = scope.get("query_string", b"")
        self.request_headers: list[tuple[bytes, bytes]] = []
        # The tenant is known once security has run: read from the context when answered.
        self.context: dict[str, Any] | None = context
        self.tenant: str | None = None
        # None: the connection was closed without an answer (a `drop` fault).
        self.status: int | None = None
        self.duration_ms = 0.0
        self.request_body = self.response_body = b""
        self.request_truncated = self.response_truncated = False
        self.response_headers: list[tuple[bytes, bytes]] = []

    def add_request(self, chunk: bytes) -> None:
        if chunk and not self.request_truncated:
            self.request_body, self.request_truncated = _kept(self.request_body, chunk)

    def add_response(self, chunk: bytes) -> None:
        if chunk and not self.response_truncated:
            self.response_body, self.response_truncated = _kept(self.response_body, chunk)

    def finish(self, request_headers: list[tuple[bytes, bytes]], duration_ms: float) -> None:
        self.request_headers = request_headers
        self.duration_ms = duration_ms
        self.request_body, self.response_body = bytes(self.request_body), bytes(self.response_body)
        if self.context is not None:
            self.tenant = self.context.get("user")
            self.context = None

    def _tenant(self) -> str | None:
        tenant = self.tenant if self.context is None else self.context.get("user")
        if tenant is None:
            return None
        # The store's key names the vendor too (`core.tenants`); the journal names the tenant
        # as its client knows it.
        vendor, name = tenants.split(tenant)
        if vendor == tenants.THOUGHT_INDUSTRIES:
            return fingerprint(name)  # the key is the tenant's name, and a secret
        return name

    def entry(self) -> dict[str, Any]:
        request_headers = _headers(self.request_headers)
        response_headers = _headers(self.response_headers)
        return {
            "id": self.id,
            "time": iso_millis(self.at),
            "method": self.method,
            "path": self.path,
            "query": redact_text(self.query.decode("latin-1")),
            "tenant": self._tenant(),
            "status": self.status,
            "duration_ms": round(self.duration_ms, 2),
            "request": {
                "headers": request_headers,
                "body": _decoded(self.request_body, self.request_truncated, request_headers.get("content-type", "")),
                "truncated": self.request_truncated,
            },
            "response": {
                "headers": response_headers,
                "body": _decoded(self.response_body, self.response_truncated, response_headers.get("content-type", "")),
                "truncated": self.response_truncated,
            },
        }


class JournalRecorder:
    """Records each vendor request once it is answered, errors included.

    Sits outside Connexion's exception middleware, so it sees the status the client got. The
    tenant is the `user` Connexion's security put into the request context (the Thought
    Industries key, the Moltin client_id; the token endpoint names its client itself): the
    context dict is created here, before Connexion, so that this middleware holds the same one.
    """

    def __init__(self, app: ASGIApp, journal: Journal, clock: Clock) -> None:
        self.app = app
        self.journal = journal
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.journal.size or not is_vendor_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        context: dict[str, Any] = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
        recorded = Recorded(self.clock.now(), scope, context)
        started = time.perf_counter()

        async def receive_recorded() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                recorded.add_request(message.get("body", b""))
            return message

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                recorded.status = message["status"]
                # A copy: a response object may send the same list again, changed.
                recorded.response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                recorded.add_response(message.get("body", b""))
                if early and not message.get("more_body", False):
                    await record()  # before the client has its answer, so its next request sees it
            await send(message)

        done = False
        early = self.journal.record_before_answer

        async def record() -> None:
            nonlocal done
            if not done:
                done = True
                recorded.finish(scope["headers"], (time.perf_counter() - started) * 1000)
                await self.journal.record_async(recorded)

        try:
            await self.app(scope, receive_recorded, send_recorded)
        finally:
            await record()
