"""The control plane's own error shape: Moltin-style error objects, with texts of its own."""

from __future__ import annotations

import json

from codestand.core.errors import CodestandError
from codestand.core.messages import MessageTable
from codestand.http.vendors import ErrorResponse
from codestand.moltin.messages import MESSAGES as MOLTIN
from codestand.moltin.messages import error_objects

MESSAGES = {
    # Schema problems read the same as Moltin's.
    **{key: entry for key, entry in MOLTIN.items() if entry[0] == 400 and key not in ("too_many_codes", "too_many_promotions")},
    # A learner redeeming a Thought Industries code.
    "unknown_code": (404, "Unknown code", "No redemption code {code} exists for this tenant"),
    "code_already_redeemed": (409, "Code already redeemed", "The code {code} has been redeemed already"),
    "code_expired": (422, "Code expired", "The code {code} expired at {expired}"),
    # A shopper using a Moltin promotion code.
    "unknown_promotion_code": (404, "Not Found", "No promotion could be found with the given code."),  # the vendor's cart answer
    "promotion_disabled": (422, "Promotion disabled", "The promotion of code {code} is not enabled"),
    "promotion_not_started": (422, "Promotion not started", "The promotion of code {code} has not started yet"),
    "promotion_expired": (422, "Promotion expired", "The promotion of code {code} has ended"),
    "code_for_another_user": (422, "Code for another user", "The code {code} is kept for another user"),
    "code_used_up": (422, "Code used up", "The code {code} has no uses left (it allowed {uses})"),
    "snapshot": (400, "Bad snapshot", "The snapshot cannot be restored: {reason}"),
    "clock_range": (400, "Bad Request", "The clock must stay between {earliest} and {latest}"),
    "cross_site": (403, "Cross-site request refused", "{reason}"),
    "unauthorized": (401, "Unauthorized", "This control route needs the admin token: Authorization: Bearer <token>"),
    # A Thought Industries admin uploading or adding codes (support article on redemption codes).
    "upload_no_codes": (422, "No codes", "An upload needs at least one code"),
    "upload_too_many": (422, "Too many codes", "A group holds at most {limit} codes; this one would hold {count}"),
    "upload_code_too_long": (422, "Code refused", "The code {code} is longer than {limit} characters"),
    "upload_code_characters": (422, "Code refused", "The code {code} uses characters other than a-z, 0-9 and -"),
    "upload_code_repeated": (422, "Code refused", "The code {code} is in the upload more than once"),
    "upload_code_taken": (409, "Code taken", "The code {code} is used in this instance already"),
    "upload_code_space": (422, "Code space", "Only {available} unused codes of length {length} remain"),
    "group_not_found": (404, "Not Found", "No redemption code group with this id for this tenant"),
    "not_found": (404, "Not Found", "The requested resource was not found"),
    "method_not_allowed": (405, "Method Not Allowed", "This method is not allowed on this resource"),
    "payload_too_large": (413, "Payload Too Large", "The request body is larger than {limit} bytes"),
    "unsupported_media_type": (415, "Unsupported Media Type", "The Content-Type of this request is not supported"),
    "storage_unavailable": (503, "Service Unavailable", "The storage is not available: {reason}. Nothing was changed; try again later."),
    # Fault rules.
    "rule:fault_effect": (400, "Bad Request", "A fault needs a status, latency_ms or drop: true"),
    "rule:drop_or_status": (400, "Bad Request", "A fault either drops the connection or answers a status, not both"),
    "rule:latency": (400, "Bad Request", "latency_ms must be milliseconds or {{min, max}} in milliseconds"),
    "rule:added_codes_source": (400, "Bad Request", "Say what to add: count, codes or csv"),
    "rule:rate_limits_change": (400, "Bad Request", "Say what to change: enforced, plan or both"),
    "rule:moltin_rate_limits_change": (400, "Bad Request", "Say what to change: enforced, store_kind or both"),
    "latency_range": (400, "Bad Request", "latency_ms.min must not be above latency_ms.max"),
    "tenant_code_limit": (422, "Too many codes", "The snapshot would take this tenant over {limit} stored codes (--tenant-max-codes)"),
    "too_many_tenants": (503, "Too many tenants", "The stand-in holds {limit} tenants, as many as it may (--max-tenants)"),
    "catalog_limit": (422, "Catalog too large", "A tenant's catalog holds at most {limit} items"),
    "too_many_faults": (422, "Too many fault rules", "At most {limit} fault rules can be in force at once; remove some first"),
    "fault_not_found": (404, "Not Found", "No fault rule with this id"),
    "unknown_field": (400, "Unknown field", "{name} is not a field of this body"),
    "malformed": (400, "Bad Request", "The request is not valid"),
    "rule": (422, "Unprocessable Entity", "The request breaks a rule"),
    "internal": (500, "Internal Server Error", "Something went wrong in the stand-in; the server log has the details"),
}

TABLE = MessageTable(MESSAGES, formats={"date-time": "an RFC 3339 date-time"})


def render(error: CodestandError) -> ErrorResponse:
    status, objects = error_objects(TABLE, error)
    return ErrorResponse(status, json.dumps({"errors": objects}).encode(), error.headers)
