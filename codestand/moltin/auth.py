"""A Moltin access token to its store (tenant), for the bearer security scheme.

Returning None makes Connexion answer 401, which the error path renders in the vendor's shape.
"""

from __future__ import annotations

from connexion.lifecycle import ConnexionRequest

from codestand.context import services_of
from codestand.core import tenants
from codestand.core.errors import Forbidden, Problem
from codestand.http.auth import authorizations
from codestand.moltin import tokens


def moltin_token(token: str, request: ConnexionRequest) -> dict | None:
    """A live token names its store; implicit (storefront) tokens may not touch promotions."""
    if len(authorizations(request.scope)) != 1:
        return None
    services = services_of(request.scope)
    found = tokens.resolve_once(request.scope, services.store, services.clock, token.strip())
    if found is None:
        return None
    if found.grant == "implicit" and request.scope["path"].startswith("/v2/promotions"):
        raise Forbidden(Problem("forbidden"))
    tenant = tenants.moltin(found.tenant)
    services.tenants.use(tenant)
    return {"sub": tenant, "grant": found.grant}
