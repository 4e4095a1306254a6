"""Response bodies from the contract alone: a response's `example`, else one built from its schema.

`Prefer: code=NNN` answers with these, so they follow Stoplight Prism's static generation: an
`example` (or the first of `examples`) wins; else, property by property, an `example`, a
`default`, the first `enum` value, `null` where nullable, a fixed value for a known `format`,
else `"string"`, the minimum or 0, `false`. Bodies are minimal: only required properties, and
arrays with only their `minItems` items. A `pattern` is not honoured.
"""

from __future__ import annotations

import copy
from typing import Any

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_FORMATS = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00.000Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
}
_DEPTH = 32


class ResponseCatalog:
    """The documented responses of every operation of a spec, by operationId and status."""

    def __init__(self, spec: dict) -> None:
        self._spec = spec
        self._responses: dict[str, dict[int, dict]] = {}
        for item in spec.get("paths", {}).values():
            for method, operation in item.items():
                if method in _METHODS and "operationId" in operation:
                    self._responses[operation["operationId"]] = {
                        int(code): _resolve(response, spec)
                        for code, response in operation.get("responses", {}).items()
                        if str(code).isdigit()
                    }

    def statuses(self, operation_id: str) -> list[int] | None:
        """The statuses the operation documents, or None for an operation of another spec."""
        responses = self._responses.get(operation_id)
        return None if responses is None else sorted(responses)

    def body(self, operation_id: str, status: int) -> tuple[str | None, Any]:
        """(media type, body) of a documented response; (None, None) when it has no content."""
        content = self._responses[operation_id][status].get("content") or {}
        if not content:
            return None, None
        media_type = "application/json" if "application/json" in content else next(iter(content))
        media = content[media_type]
        if "example" in media:
            return media_type, copy.deepcopy(media["example"])
        if media.get("examples"):
            first = _resolve(next(iter(media["examples"].values())), self._spec)
            return media_type, copy.deepcopy(first.get("value"))
        return media_type, sample(media.get("schema", {}), self._spec)


def sample(schema: dict, root: dict, depth: int = 0) -> Any:
    """A minimal value that `schema` accepts (bar `pattern`), built without randomness."""
    schema = _flatten(schema, root)
    for key in ("example", "default"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if schema.get("enum"):
        return copy.deepcopy(schema["enum"][0])
    if schema.get("nullable") or depth > _DEPTH:
        return None
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: sample(properties.get(name, {}), root, depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        return [sample(schema.get("items", {}), root, depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        text = "string".ljust(schema.get("minLength", 0), "s")
        return text[: schema["maxLength"]] if "maxLength" in schema else text
    if kind in ("integer", "number"):
        value = schema.get("minimum", 0)
        if schema.get("exclusiveMinimum") and "minimum" in schema:
            value += 1
        return min(value, schema["maximum"]) if "maximum" in schema else value
    if kind == "boolean":
        return False
    return None


def _resolve(node: dict, root: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _flatten(schema: dict, root: dict) -> dict:
    """One schema with `allOf` merged in and the first `anyOf`/`oneOf` branch taken."""
    schema = _resolve(schema, root)
    if not any(key in schema for key in ("allOf", "anyOf", "oneOf")):
        return schema
    merged = {k: v for k, v in schema.items() if k not in ("allOf", "anyOf", "oneOf")}
    for part in schema.get("allOf", []):
        _merge(merged, _flatten(part, root))
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    # A branch that only says what must not be there gives nothing to build from.
    branch = next((b for b in branches if "not" not in b), None)
    if branch is not None:
        _merge(merged, _flatten(branch, root))
    return merged


def _merge(into: dict, part: dict) -> None:
    for key, value in part.items():
        if key == "properties":
            into["properties"] = {**value, **into.get("properties", {})}
        elif key == "required":
            into["required"] = list(dict.fromkeys([*into.get("required", []), *value]))
        else:
            into.setdefault(key, value)
