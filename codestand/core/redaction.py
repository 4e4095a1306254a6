"""What the stand-in writes down about requests, kept safe to read.

A Thought Industries API key is both a secret and the name of its tenant. Wherever the
stand-in would write that name for someone to read later (the request journal, the access log)
it writes the key's fingerprint instead: `sha256:` and the first 16 hex digits of the key's
SHA-256, the same for the same key in every run, so a test can compute it, and a journal filter
given the key itself finds it. The access log also escapes what a client could use to write a
line of its own.
"""

from __future__ import annotations

import functools
import hashlib
import re

_CONTROL_PREFIX = "/__codestand"
# A tenant segment of a control-plane path, however many slashes come before it.
_TENANT_SEGMENT = re.compile(r"(/tenants/+)([^/]+)")


@functools.lru_cache(maxsize=1024)
def fingerprint(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def loggable_path(path: str) -> str:
    """`path` as the access log writes it.

    A control-plane route names a tenant, which may be a Thought Industries key (the control
    plane cannot tell a key from a Moltin client_id), so every tenant segment is written as its
    fingerprint. And a path is decoded (`%0A` is a line break), so one holding a character that
    does not print is written escaped: no request writes a log line of its own.
    """
    if path.startswith(_CONTROL_PREFIX):
        path = _TENANT_SEGMENT.sub(lambda m: m[1] + fingerprint(m[2]), path)
    if not path.isprintable():
        path = path.encode("unicode_escape").decode("ascii")
    return path
