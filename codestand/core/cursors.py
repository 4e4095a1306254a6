"""Opaque cursors for the Thought Industries lists: a record offset, encoded and labelled.

A cursor names the list it came from, so one list's cursor handed to another is refused
rather than silently misread.
"""

from __future__ import annotations

import base64
import binascii

from codestand.core.errors import InvalidRequest, Problem


def cursor(offset: int, kind: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode().rstrip("=")


def offset(value: str, kind: str) -> int:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == kind and number.isdigit() and len(number) < 10:
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequest(Problem("invalid_cursor", "cursor"))
