"""What every vendor's message table shares: looking a problem up, ordering, filling templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from codestand.core.errors import Problem

Entry = TypeVar("Entry", bound=tuple)
Key = str | tuple[str, str | None]

TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
}


class _Params(dict):
    """Message values; one a template names but the problem lacks prints as `?`, never fails."""

    def __missing__(self, key: str) -> str:
        return "?"


class MessageTable(Generic[Entry]):
    """Entries keyed by `(problem key, field)` or by problem key alone; their order is the order
    in which a response lists several problems."""

    def __init__(self, entries: Mapping[Key, Entry], *, formats: Mapping[str, str], types: Mapping[str, str] = TYPE_WORDS) -> None:
        self.entries = dict(entries)
        self._order = {key: index for index, key in enumerate(self.entries)}
        self._formats = formats
        self._types = types

    def lookup(self, problem: Problem) -> tuple[Key, Entry]:
        for key in ((problem.key, problem.field), problem.key):
            if key in self.entries:
                return key, self.entries[key]
        return "malformed", self.entries["malformed"]

    def sorted(self, problems: tuple[Problem, ...]) -> list[Problem]:
        return sorted(problems, key=lambda p: (self._order[self.lookup(p)[0]], p.field or ""))

    def fill(self, template: str, problem: Problem) -> str:
        params: dict[str, Any] = dict(problem.params)
        params["field"] = problem.field or "body"
        params["name"] = (problem.field or "body").rsplit(".", 1)[-1]
        params["expected"] = self._types.get(params.get("expected"), params.get("expected"))
        params["format"] = self._formats.get(params.get("format"), "well formed")
        if isinstance(params.get("limit"), list):
            params["limit"] = ", ".join(map(str, params["limit"]))
        return template.format_map(_Params(params))
