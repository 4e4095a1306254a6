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

@functools.lru_cache(maxsize=1024)
def fingerprint(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]

