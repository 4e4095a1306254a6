"""Thought Industries keys in what the stand-in writes down.

A Thought Industries API key is both a secret and the name of its tenant. Wherever the
stand-in would write that name for someone to read later (the request journal, the access log)
it writes the key's fingerprint instead: `sha256:` and the first 16 hex digits of the key's
SHA-256, the same for the same key in every run, so a test can compute it, and a journal filter
given the key itself finds it.
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
    """`path` as the access log writes it: a control-plane route names a tenant, which may be a
    Thought Industries key (the control plane cannot tell a key from a Moltin client_id), so
    every tenant segment is written as its fingerprint."""
    if not path.startswith(_CONTROL_PREFIX):
        return path
    return _TENANT_SEGMENT.sub(lambda m: m[1] + fingerprint(m[2]), path)
