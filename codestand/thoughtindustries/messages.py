"""Thought Industries' error shape: `{"errors": [message, ...]}`, 401 with an empty body.

Every text the stand-in can say to a Thought Industries client is in `MESSAGES`, in the order the
messages are listed when a request has several problems. The two texts marked [doc] are the
vendor's own (vendor page "Create Redemption Code Group"); the rest follow their style.
"""

from __future__ import annotations

import json

from codestand.core.errors import CodestandError, InvalidRequest, Problem
from codestand.core.messages import TYPE_WORDS, MessageTable
from codestand.http.vendors import ErrorResponse

MALFORMED, RULE = 400, 422

_CODES_AND_LENGTH = "Generated Redemption Code Groups must have a value for code length and total codes."  # [doc]

# key or (key, field) -> (status for InvalidRequest problems, message template)
MESSAGES: dict[str | tuple[str, str | None], tuple[int, str]] = {
    # The body as a whole.
    "encoding": (MALFORMED, "Request body is not valid UTF-8."),
    "malformed_json": (MALFORMED, "Request body is not valid JSON."),
    "too_deep": (MALFORMED, "Request body is nested more than {limit} levels deep."),
    "nul_character": (MALFORMED, "Request body must not contain NUL characters."),
    "body_required": (MALFORMED, "Request body must be a JSON object."),
    ("type", None): (MALFORMED, "Request body must be a JSON object."),
    ("null", None): (MALFORMED, "Request body must be a JSON object."),
    # Create rules, in the order of the vendor page.
    ("required", "label"): (RULE, "Redemption Code Groups must have a label."),
    ("null", "label"): (RULE, "Redemption Code Groups must have a label."),
    ("minLength", "label"): (RULE, "Redemption Code Groups must have a label."),
    ("maxLength", "label"): (RULE, "Labels can be at most {limit} characters."),
    ("required", "codeLength"): (RULE, _CODES_AND_LENGTH),
    ("null", "codeLength"): (RULE, _CODES_AND_LENGTH),
    ("required", "totalCodesCount"): (RULE, _CODES_AND_LENGTH),
    ("null", "totalCodesCount"): (RULE, _CODES_AND_LENGTH),
    ("minimum", "codeLength"): (RULE, "Code length must be between 4 and 20 characters."),
    ("maximum", "codeLength"): (RULE, "Code length must be between 4 and 20 characters."),
    ("minimum", "totalCodesCount"): (RULE, "Generated Redemption Code Groups must have at least 1 code."),
    ("maximum", "totalCodesCount"): (RULE, "Generated Redemption Code Groups cannot have more than 10,000 codes."),
    "rule:code_space": (
        RULE,
        "Only {available} unused codes of length {length} remain; choose a longer code length or fewer codes.",
    ),
    "rule:at_least_one_item": (RULE, "Please choose at least one item to give access to, or select a license."),  # [doc]
    "rule:access_exclusive": (RULE, "Access days and access expiration date cannot both be set; choose one."),
    ("minimum", "accessDays"): (RULE, "Access days must be between 1 and 36500."),
    ("maximum", "accessDays"): (RULE, "Access days must be between 1 and 36500."),
    "maxItems": (RULE, "{field} can list at most {limit} ids."),
    "unknown_catalog_item": (RULE, "No {kind} with id {id} exists."),
    # Types and formats.
    "type": (MALFORMED, "{field} must be {expected}."),
    "null": (MALFORMED, "{field} must not be null."),
    "format": (MALFORMED, "{field} must be {format}."),
    # Query and path parameters.
    "duplicate_parameter": (MALFORMED, "{field} is sent more than once."),
    "required_parameter": (MALFORMED, "{field} is required."),
    # A parameter that breaks its schema, by the rule it breaks (`render` picks the entry), in
    # the vendor's words and naming the parameter, never the schema validator's sentence.
    ("parameter", "sort"): (MALFORMED, "sort must be label, totalCodesCount or redeemedCodesCount, then :asc or :desc."),
    ("parameter:pattern", "cursor"): (MALFORMED, "cursor is not a cursor this server issued."),
    ("parameter:maxLength", "cursor"): (MALFORMED, "cursor is not a cursor this server issued."),
    "parameter:format": (MALFORMED, "{field} must be {format}."),
    "parameter:minLength": (MALFORMED, "{field} must not be empty."),
    "parameter:maxLength": (MALFORMED, "{field} can be at most {limit} characters."),
    "parameter:pattern": (MALFORMED, "{field} is not well formed."),
    "parameter": (MALFORMED, "{field} is not valid."),
    "invalid_cursor": (MALFORMED, "cursor is not a cursor this server issued."),
    "invalid_events_cursor": (MALFORMED, "cursor is not a cursor this server issued."),
    # Everything else a route can answer.
    "not_found": (404, "Not found."),
    "group_not_found": (404, "Redemption code group not found."),
    "method_not_allowed": (405, "Method not allowed."),
    "unsupported_media_type": (415, "Content-Type must be application/json."),
    "payload_too_large": (413, "Request body is larger than {limit} bytes."),
    "forbidden": (403, "Forbidden."),
    # The status-codes page: 403 is "valid credentials but insufficient permissions: check the
    # role assigned to your API key".
    "forbidden_role": (403, "The role {role} assigned to this API key does not allow {operation}."),
    "conflict": (409, "Conflict."),
    "tenant_code_limit": (RULE, "totalCodesCount would take this tenant over {limit} stored codes (--tenant-max-codes)."),
    "too_many_tenants": (503, "The stand-in holds {limit} tenants, as many as it may (--max-tenants); try again once some are forgotten."),
    "unknown_host": (MALFORMED, "This server does not answer to the host name {host}; start it with --allowed-host NAME."),
    "malformed": (MALFORMED, "Bad request."),
    "rule": (RULE, "The request breaks a rule."),
    "internal": (500, "Internal server error."),
    "storage_unavailable": (503, "Storage is not available: {reason}. Nothing was changed; try again later."),
    # Asked for by a test (a fault rule, `Prefer: code=NNN`), never answered on their own.
    "too_many_requests": (429, "Request rate limit reached. Retry after {retry_after} seconds."),  # [doc]
    "bad_gateway": (502, "Bad gateway."),
    "service_unavailable": (503, "Service unavailable."),
    "gateway_timeout": (504, "Gateway timeout."),
    "prefer_undocumented": (404, "Prefer: code={code} names no response of this operation; it documents {documented}."),
}

TABLE = MessageTable(
    MESSAGES,
    types={**TYPE_WORDS, "boolean": "true or false"},
    formats={
        "uuid": "a UUID",
        "date": "an ISO 8601 date",
        "date-time": "an ISO 8601 date-time",
        "date|date-time": "an ISO 8601 date or date-time",
        "unix-ms|date|date-time": "Unix milliseconds or an ISO 8601 date or date-time",
    },
)


# A forced 429 (a fault rule, `Prefer: code=429`) names no window: a whole minute. A 503: the
# status-codes page says to "check the Retry-After header", without a figure.
FORCED_RETRY_AFTER = 60
UNAVAILABLE_RETRY_AFTER = 30


def render(error: CodestandError) -> ErrorResponse:
    if error.status == 401:
        # The vendor answers an unauthenticated request with 401 and an empty body [doc].
        return ErrorResponse(401, b"", error.headers)
    if error.status == 429:
        return _rate_limited(error)
    problems = TABLE.sorted(tuple(_by_rule(p) for p in error.problems))
    if isinstance(error, InvalidRequest):
        # 400 when anything is malformed, 422 when the body is well formed but breaks rules.
        status = min(TABLE.lookup(p)[1][0] for p in problems)
    else:
        status = error.status
    messages = list(dict.fromkeys(TABLE.fill(TABLE.lookup(p)[1][1], p) for p in problems))
    headers = dict(error.headers)
    if status == 503:
        headers.setdefault("Retry-After", str(UNAVAILABLE_RETRY_AFTER))
    return ErrorResponse(status, json.dumps({"errors": messages}).encode(), headers)


def _by_rule(problem: Problem) -> Problem:
    """A parameter's problem under the entry of the rule it breaks, unless the parameter has an
    entry of its own."""
    if problem.key != "parameter" or ("parameter", problem.field) in TABLE.entries:
        return problem
    rule = problem.params.get("rule")
    # A value none of the forms admits (`anyOf`) is a format problem too.
    return Problem(f"parameter:{'format' if rule == 'anyOf' else rule}", problem.field, problem.params)


def _rate_limited(error: CodestandError) -> ErrorResponse:
    """The rate-limits page's 429: its own body, not `{"errors": [...]}`, and `Retry-After`."""
    problem = error.problems[0]
    retry_after = problem.params.get("retry_after", FORCED_RETRY_AFTER)
    body = {
        "error": "rate_limit_exceeded",
        "message": TABLE.fill(MESSAGES["too_many_requests"][1], Problem("too_many_requests", params={"retry_after": retry_after})),
        "retryAfter": retry_after,
    }
    return ErrorResponse(429, json.dumps(body).encode(), {**error.headers, "Retry-After": str(retry_after)})
