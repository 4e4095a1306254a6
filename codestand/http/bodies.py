"""Strict parsing of request bodies: JSON as the RFC has it (no NaN, no duplicate keys, no NUL,
bounded depth) and `application/x-www-form-urlencoded` forms, refused as `InvalidRequest`."""
from __future__ import annotations

import json
import math
import re
import typing as t
from urllib.parse import parse_qsl

from codestand.core.errors import InvalidRequest, Problem


def _reject_constant(name: str) -> t.NoReturn:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # `1e400` overflows to infinity, which would be answered (or stored, then answered) as
    # `Infinity`: not JSON either.
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value


# Deeper than any body of either contract (a snapshot nests 7 levels), far below the depth at
# which answering a stored value would exceed Python's recursion limit.
MAX_DEPTH = 64


def _depth_exceeds(value: t.Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` containers deep, level by level (no recursion)."""
    level: list[t.Any] = [value]
    for _ in range(limit):
        deeper = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        if not deeper:
            return False
        level = deeper
    return True


def _has_nul(value: t.Any) -> bool:
    """Whether a string value holds a NUL character. Names of fields may: an unknown one is
    passed over, and the free-form objects that keep theirs (a promotion's `schema`) are stored
    as JSON text, where a NUL is the escape `\\u0000`."""
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _no_duplicate_keys(pairs: list[tuple[str, t.Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(raw: bytes, encoding: str = "utf-8") -> t.Any:
    """A JSON body as the handlers and stores can take it, or `InvalidRequest` saying why not.

    Beyond what JSON itself forbids (and NaN, Infinity and duplicate keys, which Python's parser
    accepts), refused: numbers beyond a double's range, a lone surrogate (no character), NUL
    characters (no label, code or id holds one, and stores disagree about them: PostgreSQL's
    text refuses them, SQLite's string functions stop at them), and nesting deeper than
    `MAX_DEPTH`. The checks past parsing run only when the text could hold what they look for.
    """
    try:
        text = raw.decode(encoding)
        body = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_no_duplicate_keys
        )
        if _SURROGATE_ESCAPE.search(text):
            # `"\ud800"` alone is valid JSON but no character: no store could keep it as text.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, LookupError):
        raise InvalidRequest(Problem("encoding"))
    except RecursionError:
        raise InvalidRequest(Problem("malformed_json"))
    except ValueError:
        raise InvalidRequest(Problem("malformed_json"))
    if "\\u0000" in text and _has_nul(body):
        raise InvalidRequest(Problem("nul_character"))
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(body, MAX_DEPTH):
        raise InvalidRequest(Problem("too_deep", params={"limit": MAX_DEPTH}))
    return body



MAX_FORM_FIELDS = 1000


def parse_form(raw: bytes, once: t.Collection[str] = ()) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body, or `InvalidRequest` saying why not.

    Text is UTF-8, escaped or not; a value with a NUL character is refused, and so are more than
    `MAX_FORM_FIELDS` fields and a field of `once` sent twice ("Request and response parameters
    MUST NOT be included more than once", RFC 6749, section 3.1: the form is the OAuth token
    request). Of another field sent twice the last counts, as in Starlette's parser; fields
    without a name name nothing and are passed over.
    """
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except UnicodeError:
        raise InvalidRequest(Problem("encoding")) from None
    except ValueError:
        raise InvalidRequest(Problem("too_many_fields", params={"limit": MAX_FORM_FIELDS})) from None
    form: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in pairs:
        if "\0" in value:
            problems.append(Problem("nul_character"))
        elif name in form and name in once:
            problems.append(Problem("duplicate_parameter", name))
        elif name:
            form[name] = value
    if problems:
        raise InvalidRequest(*problems)
    return form
