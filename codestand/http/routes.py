"""Which methods each path of the spec answers, for the `Allow` header of a 405.

Starlette's router names only the methods of the first route that matched the path; a client
(and Schemathesis' `allow_header_conformance`) expects every method the path has.
"""

from __future__ import annotations

import re

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class RouteTable:
    def __init__(self, *specs: dict) -> None:
        self._routes: list[tuple[re.Pattern[str], str]] = []
        for spec in specs:
            # Paths are relative to the spec's server URL (`/__codestand` for the control plane).
            base = (spec.get("servers") or [{"url": "/"}])[0]["url"].rstrip("/")
            for template, item in spec.get("paths", {}).items():
                pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(base + template))
                methods = ", ".join(m.upper() for m in _METHODS if m in item)
                self._routes.append((re.compile(f"^{pattern}$"), methods))

    def allow(self, path: str) -> str | None:
        for pattern, methods in self._routes:
            if pattern.match(path):
                return methods
        return None
