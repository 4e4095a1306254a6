"""The one error path: whatever failed, the client gets its vendor's error shape.

Domain errors arrive as `CodestandError`s; Connexion's own (security, validation, 404, 405, 415)
and anything unexpected are translated to them first. Connexion's `application/problem+json`
never reaches a client.
"""

from __future__ import annotations

import logging

from connexion import AsyncApp
from connexion.exceptions import (
    BadRequestProblem,
    OAuthScopeProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.exceptions import (
    Forbidden as ConnexionForbidden,
)
from connexion.exceptions import (
    Unauthorized as ConnexionUnauthorized,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from codestand.context import services_of
from codestand.core import errors
from codestand.core.errors import CodestandError, Problem
from codestand.http.vendors import renderer_for
from codestand.storage.base import StorageUnavailable

log = logging.getLogger("codestand.errors")

_BY_STATUS: dict[int, type[CodestandError]] = {
    400: errors.InvalidRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
}


def as_codestand_error(exc: Exception) -> CodestandError:
    if isinstance(exc, CodestandError):
        return exc
    if isinstance(exc, (ConnexionUnauthorized,)):
        return errors.Unauthorized()
    if isinstance(exc, (ConnexionForbidden, OAuthScopeProblem)):
        return errors.Forbidden()
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return errors.UnsupportedMediaType()
    if isinstance(exc, BadRequestProblem):
        return errors.InvalidRequest(Problem("malformed"))
    if isinstance(exc, StorageUnavailable):
        # Not a bug: the operator needs one line saying why, the client a 503 it can retry.
        log.warning("storage unavailable: %s", exc.reason)
        return errors.Unavailable(Problem("storage_unavailable", params={"reason": exc.reason}))
    if isinstance(exc, (ProblemException, HTTPException)):
        status = getattr(exc, "status_code", None) or getattr(exc, "status", 500)
        kind = _BY_STATUS.get(status)
        if kind is not None:
            return kind()
    log.error("unexpected error", exc_info=exc)
    return errors.InternalError()


def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    try:
        return _respond(request, as_codestand_error(exc))
    except Exception as failure:  # an error path that fails must still answer in shape
        log.error("error while rendering an error", exc_info=failure)
        return _respond(request, errors.InternalError())


def _respond(request: ConnexionRequest, error: CodestandError) -> ConnexionResponse:
    if isinstance(error, errors.MethodNotAllowed):
        allow = services_of(request.scope).routes.allow(request.url.path)
        error.headers = {**error.headers, "Allow": allow} if allow else error.headers
    rendered = renderer_for(request.url.path)(error)
    return ConnexionResponse(
        status_code=rendered.status,
        body=rendered.body,
        headers=rendered.headers,
        mimetype=rendered.headers.get("content-type"),
    )


def install(app: AsyncApp) -> None:
    for kind in (CodestandError, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, handle)
