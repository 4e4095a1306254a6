"""Path patterns, as fault rules and journal filters write them: `/v2/promotions/*/codes`.

`*` stands for any characters within one path segment, `**` for any characters across segments,
`?` for one character other than `/`; everything else stands for itself. A pattern matches the
whole path (never the query). Python's `fnmatch` would let `*` cross `/`, so that
`/v2/promotions/*` would also match a promotion's codes.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            parts.append(".*")
            i += 2
            continue
        char = pattern[i]
        parts.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(parts) + r"\Z")


def matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern).match(path) is not None


def is_glob(text: str) -> bool:
    return "*" in text or "?" in text
