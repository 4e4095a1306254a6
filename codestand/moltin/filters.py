"""The vendor's `filter` query: `op(field,value,...)`, several joined by `:` (a logical AND).

From the filtering guide (current/filtering.md): the operators `eq`, `like`, `in`, `gt`, `ge`,
`lt`, `le` (and `is_null` in the newer syntax); at most 10 filters and 8 KB a request; operands
either unquoted, of the supported characters (leading spaces dropped), or quoted with `'` or `"`,
nested quotes escaped with `\\`. An incorrectly formatted filter, an unsupported operator, or an
attribute the endpoint does not filter on answers 400 `Could not parse the supplied filter`.
`like` takes `*` wildcards at either end or both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from codestand.core.errors import InvalidRequest, Problem

MAX_FILTERS = 10  # [doc]
MAX_BYTES = 8192  # [doc]
OPERATORS = frozenset({"eq", "like", "in", "gt", "ge", "lt", "le", "is_null"})
# Unquoted operands: the characters of the newer syntax [doc], which include the older one's.
_UNQUOTED = re.compile(r"[A-Za-z0-9@$_*.{}|+:/\- ]*")
_NAME = re.compile(r"[a-z_][a-z0-9_.]*")


@dataclass(frozen=True, slots=True)
class Condition:
    op: str
    field: str
    values: tuple[str, ...]


def bad_filter() -> InvalidRequest:
    return InvalidRequest(Problem("bad_filter"))


def parse(text: str | None, allowed: dict[str, frozenset[str]]) -> list[Condition]:
    """The conditions of `text`; `allowed` maps each attribute to the operators it takes."""
    if not text:
        return []
    if len(text.encode()) > MAX_BYTES:
        raise bad_filter()
    conditions: list[Condition] = []
    at = 0
    while True:
        condition, at = _condition(text, at)
        if condition.op not in allowed.get(condition.field, ()):
            raise bad_filter()
        conditions.append(condition)
        if at == len(text):
            break
        if text[at] != ":":
            raise bad_filter()
        at += 1
    if len(conditions) > MAX_FILTERS:
        raise bad_filter()
    return conditions


def _condition(text: str, at: int) -> tuple[Condition, int]:
    op = _NAME.match(text, at)
    if not op or op.group() not in OPERATORS or text[op.end() : op.end() + 1] != "(":
        raise bad_filter()
    at = op.end() + 1
    field = _NAME.match(text, at)
    if not field:
        raise bad_filter()
    at = field.end()
    values: list[str] = []
    while at < len(text) and text[at] == ",":
        value, at = _operand(text, at + 1)
        values.append(value)
    if at >= len(text) or text[at] != ")":
        raise bad_filter()
    wanted = 0 if op.group() == "is_null" else None
    if (wanted == 0 and values) or (wanted is None and not values) or (op.group() != "in" and len(values) > 1):
        raise bad_filter()
    return Condition(op.group(), field.group(), tuple(values)), at + 1


def _operand(text: str, at: int) -> tuple[str, int]:
    while at < len(text) and text[at] == " ":
        at += 1  # leading spaces are dropped [doc]
    if at < len(text) and text[at] in "'\"":
        quote, at, chars = text[at], at + 1, []
        while at < len(text) and text[at] != quote:
            if text[at] == "\\" and at + 1 < len(text):
                at += 1
            chars.append(text[at])
            at += 1
        if at >= len(text):
            raise bad_filter()
        return "".join(chars), at + 1
    # Unquoted: up to the next `,` or `)`; `:` is allowed inside an operand [doc].
    end = at
    while end < len(text) and text[end] not in ",)":
        end += 1
    value = text[at:end]
    if not _UNQUOTED.fullmatch(value):
        raise bad_filter()  # an unsupported character [doc]
    return value, end


def matches(conditions: list[Condition], read: Any) -> bool:
    """Whether a record passes every condition; `read(field)` gives its value (None if none)."""
    return all(_holds(c, read(c.field)) for c in conditions)


def _holds(c: Condition, value: Any) -> bool:
    if c.op == "is_null":
        return value is None
    if value is None:
        return False
    if isinstance(value, (list, tuple)):
        return any(_holds(c, v) for v in value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if c.op == "eq":
        return text == c.values[0]
    if c.op == "in":
        return text in c.values
    if c.op == "like":
        pattern = re.escape(c.values[0]).replace(r"\*", ".*")
        return re.fullmatch(pattern, text, re.IGNORECASE) is not None
    key = _number(text), _number(c.values[0])
    left, right = key if None not in key else (text, c.values[0])
    return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[c.op]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
