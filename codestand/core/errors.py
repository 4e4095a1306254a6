"""Vendor-neutral exceptions.

They carry what went wrong (a problem key, the field, values for the message), never a body
shape: each vendor's renderer in `codestand/vendors/` turns them into that vendor's own error
body, with texts from that vendor's one message table.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request.

    `key` names an entry of the vendors' message tables (`required`, `type`, `rule:...`);
    `field` is the offending field as a dotted path (`data.codes[0].code`), if there is one;
    `params` fill the message template.
    """

    key: str
    field: str | None = None
    params: dict[str, Any] = dc_field(default_factory=dict)


class CodestandError(Exception):
    """Base of every error a client can be answered with."""

    status: int = 500

    def __init__(self, *problems: Problem, headers: dict[str, str] | None = None) -> None:
        self.problems: tuple[Problem, ...] = problems or (Problem(self.default_key),)
        self.headers = headers or {}
        super().__init__(", ".join(p.key for p in self.problems))

    default_key = "internal"


class InvalidRequest(CodestandError):
    """The request is malformed or breaks the contract's schema.

    The status is left to the vendor's renderer: the vendors disagree on 400 versus 422 for
    the same kind of schema problem.
    """

    status = 400
    default_key = "malformed"


class RuleViolation(CodestandError):
    """A well-formed request that breaks a vendor rule (quota, lifecycle, code space)."""

    status = 422
    default_key = "rule"


class Unauthorized(CodestandError):
    status = 401
    default_key = "unauthorized"


class Forbidden(CodestandError):
    status = 403
    default_key = "forbidden"


class NotFound(CodestandError):
    status = 404
    default_key = "not_found"


class MethodNotAllowed(CodestandError):
    status = 405
    default_key = "method_not_allowed"


class Conflict(CodestandError):
    status = 409
    default_key = "conflict"


class PayloadTooLarge(CodestandError):
    status = 413
    default_key = "payload_too_large"


class UnsupportedMediaType(CodestandError):
    status = 415
    default_key = "unsupported_media_type"


class Unavailable(CodestandError):
    status = 503
    default_key = "storage_unavailable"


class InternalError(CodestandError):
    status = 500
    default_key = "internal"


# Statuses a test can ask for (a fault rule, `Prefer: code=NNN`) beyond those the stand-in
# answers by itself: a vendor behind a gateway can also answer these.


class TooManyRequests(CodestandError):
    status = 429
    default_key = "too_many_requests"


class BadGateway(CodestandError):
    status = 502
    default_key = "bad_gateway"


class ServiceUnavailable(CodestandError):
    status = 503
    default_key = "service_unavailable"


class GatewayTimeout(CodestandError):
    status = 504
    default_key = "gateway_timeout"


BY_STATUS: dict[int, type[CodestandError]] = {
    kind.status: kind
    for kind in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        RuleViolation,
        TooManyRequests,
        InternalError,
        BadGateway,
        ServiceUnavailable,
        GatewayTimeout,
    )
}


def error_for_status(status: int, *, headers: dict[str, str] | None = None, **params: Any) -> CodestandError:
    """The generic error of `status`, with that status's generic message in each vendor's table.

    `params` fill templates that need a value (`limit` for 413); a status without an error kind
    here is a KeyError: callers offer only `BY_STATUS`'s statuses.
    """
    kind = BY_STATUS[status]
    return kind(Problem(kind.default_key, params=params), headers=headers)
