"""Moltin's error shape: `{"errors": [{"status", "title", "detail"?, "source"?}]}`.

Every text the stand-in can say to a Moltin client is in `MESSAGES`. Entries marked [doc] are the
vendor's own; the schema ones follow its documented example
`{"status": 400, "source": "enabled", "title": "required", "detail": "enabled is required"}`,
with `source` as the field's full path from the body root (`data.codes[0].code`).
"""

from __future__ import annotations

import json
import uuid

from codestand.core.errors import CodestandError
from codestand.core.messages import MessageTable
from codestand.http.vendors import ErrorResponse

# key or (key, field) -> (status, title, detail template or None)
MESSAGES: dict[str | tuple[str, str | None], tuple[int, str, str | None]] = {
    # Bodies and parameters that break the contract's schema.
    "encoding": (400, "Bad Request", "The request body is not valid UTF-8"),
    "malformed_json": (400, "Bad Request", "The request body is not valid JSON"),
    "too_deep": (400, "Bad Request", "The request body is nested more than {limit} levels deep"),
    "nul_character": (400, "Bad Request", "The request body must not contain NUL characters"),
    "body_required": (400, "Bad Request", "The request body is required"),
    ("type", None): (400, "Bad Request", "The request body must be a JSON object"),
    "required": (400, "required", "{name} is required"),  # [doc] shape
    "null": (400, "type", "{name} must not be null"),
    "type": (400, "type", "{name} must be {expected}"),
    "format": (400, "format", "{name} must be {format}"),
    ("enum", "grant_type"): (400, "unsupported_grant_type", "grant_type must be client_credentials or implicit"),
    ("enum", "data.type"): (400, "type", "type must be {limit}"),
    "enum": (400, "enum", "{name} must be one of: {limit}"),
    "pattern": (400, "pattern", "{name} is not in the expected form"),
    "minLength": (400, "minLength", "{name} must be at least {limit} characters long"),
    "maxLength": (400, "maxLength", "{name} must be at most {limit} characters long"),
    "minimum": (400, "minimum", "{name} must be at least {limit}"),
    "maximum": (400, "maximum", "{name} must be at most {limit}"),
    "exclusiveMinimum": (400, "minimum", "{name} must be above the minimum"),
    "minItems": (400, "minItems", "{name} must have at least {limit} items"),
    "maxItems": (400, "maxItems", "{name} must have at most {limit} items"),
    "minProperties": (400, "minProperties", "{name} must not be empty"),
    "rule:client_secret_required": (400, "required", "client_secret is required for the client_credentials grant"),
    "rule:schema_for_type": (400, "schema", "schema does not match what promotion_type {promotion_type} requires"),
    "rule:type_and_schema_together": (400, "required", "promotion_type and schema must be sent together"),
    "duplicate_parameter": (400, "Bad Request", "{field} is sent more than once"),
    "too_many_fields": (400, "Bad Request", "The form has more than {limit} fields"),
    "required_parameter": (400, "Bad Request", "{field} is required"),
    "parameter": (400, "Bad Request", "{field} is invalid: {message}"),
    # Rules on well-formed requests.
    "start_after_end": (422, "Unprocessable Entity", "end must be after start"),
    ("maxItems", "data.codes"): (400, "Too many promotion codes", "Only {limit} promotion codes are allowed per promotion"),
    "too_many_codes": (400, "Too many promotion codes", "Only {limit} promotion codes are allowed per promotion"),  # [doc]
    "too_many_promotions": (400, "Too many promotions", "Only {limit} promotions are allowed per store"),
    "codes_on_automatic": (422, "No codes allowed", "Cannot add codes to an automatic promotion"),  # [doc]
    "reenable_too_many_codes": (422, "Unprocessable Entity", ""),  # [doc], detail empty as documented
    "duplicate_code": (409, "Conflict", "The code {code} is already used by a promotion in this store"),
    # Authentication.
    "unauthorized": (401, "Unable to validate access token", None),  # [doc]
    "invalid_client": (401, "Unauthorized", "The client_id and client_secret are not valid"),
    "forbidden": (403, "Forbidden", None),  # [doc]
    # Everything else a route can answer.
    "promotion_not_found": (404, "Not Found", "promotion not found"),  # [doc]
    "code_not_found": (404, "Not Found", "promotion code not found"),
    "not_found": (404, "Not Found", "The requested resource was not found"),
    "method_not_allowed": (405, "Method Not Allowed", "This method is not allowed on this resource"),
    "conflict": (409, "Conflict", "Write conflict detected"),  # [doc]
    "payload_too_large": (413, "Payload Too Large", "The request body is larger than {limit} bytes"),
    "unsupported_media_type": (415, "Unsupported Media Type", "The Content-Type of this request is not supported"),
    "tenant_code_limit": (422, "Unprocessable Entity", "These codes would take this store over {limit} stored codes (--tenant-max-codes)"),
    "too_many_tenants": (503, "Service Unavailable", "The stand-in holds {limit} tenants, as many as it may (--max-tenants); try again once some are forgotten"),
    "unknown_host": (400, "Unknown host", "This server does not answer to the host name {host}; start it with --allowed-host NAME"),
    "malformed": (400, "Bad Request", "The request is not valid"),
    "rule": (422, "Unprocessable Entity", "The request breaks a rule"),
    "internal": (
        500,
        "Internal Server Error",
        "There was an internal server error, you can report with your request id.",
    ),  # [doc]
    "storage_unavailable": (
        503,
        "Service Unavailable",
        "The storage is not available: {reason}. Nothing was changed; try again later.",
    ),
    # Asked for by a test (a fault rule, `Prefer: code=NNN`), never answered on their own.
    "too_many_requests": (429, "Too Many Requests", "Too many requests; retry later"),
    "bad_gateway": (502, "Bad Gateway", "The upstream service did not answer properly"),
    "service_unavailable": (503, "Service Unavailable", "The service is temporarily unavailable"),
    "gateway_timeout": (504, "Gateway Timeout", "The upstream service did not answer in time"),
    "prefer_undocumented": (404, "Not Found", "Prefer: code={code} names no response of this operation; it documents {documented}"),
}

TABLE = MessageTable(
    MESSAGES,
    formats={
        "uuid": "a UUID",
        "date": "a date (yyyy-mm-dd)",
        "date-time": "an RFC 3339 date-time",
        "date|date-time": "a date (yyyy-mm-dd) or an RFC 3339 date-time",
    },
)


def error_objects(table: MessageTable, error: CodestandError) -> tuple[int, list[dict]]:
    """JSON:API-style error objects, those of the first problem's status only, each once."""
    objects = []
    for problem in table.sorted(error.problems):
        _, (status, title, template) = table.lookup(problem)
        obj: dict = {"status": status, "title": title}
        if template is not None:
            obj["detail"] = table.fill(template, problem)
        if problem.field:
            obj["source"] = problem.field
        objects.append(obj)
    status = objects[0]["status"]
    unique = {json.dumps(o, sort_keys=True): o for o in objects if o["status"] == status}
    return status, list(unique.values())


def render(error: CodestandError) -> ErrorResponse:
    status, objects = error_objects(TABLE, error)
    if status == 500:
        # The vendor's 500 carries a request id to report [doc].
        objects = [{**objects[0], "request_id": str(uuid.uuid4())}]
    return ErrorResponse(status, json.dumps({"errors": objects}).encode(), error.headers)
