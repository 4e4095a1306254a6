"""Credentials to tenants, called by Connexion for the security schemes in `openapi.yaml`.

Returning None makes Connexion answer 401, which the error path renders in the vendor's shape.
"""

from __future__ import annotations

import functools
import hmac

from connexion.lifecycle import ConnexionRequest
from connexion.security import BearerSecurityHandler

from codestand.context import services_of
from codestand.domain import tokens
from codestand.errors import Forbidden, Problem


# The control plane names a tenant in its paths in at most 500 characters.
MAX_KEY_LENGTH = 500


def authorizations(scope) -> list[bytes]:
    """The request's Authorization header values, read from the ASGI scope itself.

    The credential functions below read nothing but `request.scope`, so the fast path can call
    them without building a request object (and Starlette's header view, twice) for each request;
    the fast path and the admin gate read the header through this too.
    """
    return [value for name, value in scope["headers"] if name == b"authorization"]


def thought_industries_key(token: str, request: ConnexionRequest) -> dict | None:
    """Any non-empty API key of at most 500 characters names its own tenant, unless
    `--ti-api-key` lists the keys."""
    key = token.strip()
    # Several Authorization headers are no credential: which one would count is a guess (and
    # the order a proxy puts them in); HTTP lets a non-list header be sent once.
    given = authorizations(request.scope)
    # `Bearer: key` is tolerated for Moltin's old SDKs only (see ColonBearer).
    if not key or len(given) != 1 or given[0][:7].lower() != b"bearer ":
        return None
    if len(key) > MAX_KEY_LENGTH:
        return None
    allowed = services_of(request.scope).settings.ti_api_keys
    if allowed and not any(hmac.compare_digest(key.encode(), k.encode()) for k in allowed):
        return None
    return {"sub": key}


def moltin_token(token: str, request: ConnexionRequest) -> dict | None:
    """A live token names its store; implicit (storefront) tokens may not touch promotions."""
    if len(authorizations(request.scope)) != 1:
        return None
    services = services_of(request.scope)
    found = tokens.resolve(services.store, services.clock, token.strip())
    if found is None:
        return None
    if found.grant == "implicit" and request.scope["path"].startswith("/v2/promotions"):
        raise Forbidden(Problem("forbidden"))
    return {"sub": found.tenant, "grant": found.grant}


class ColonBearer(BearerSecurityHandler):
    """Old Moltin SDKs send `Authorization: Bearer: <token>`; read it as `Bearer <token>`."""

    @staticmethod
    def get_auth_header_value(request):
        auth_type, value = BearerSecurityHandler.get_auth_header_value(request)
        return ("bearer", value) if auth_type == "bearer:" else (auth_type, value)

    @staticmethod
    @functools.cache
    def _accepts_kwarg(func, keyword: str) -> bool:
        # Connexion reads the credential function's signature with `inspect` on every request;
        # the answer never changes.
        return BearerSecurityHandler._accepts_kwarg(func, keyword)
