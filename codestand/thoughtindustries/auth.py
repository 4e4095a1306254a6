"""A Thought Industries API key to its tenant, for the `tiKey` security scheme.

Returning None makes Connexion answer 401, which the error path renders in the vendor's shape.
"""

from __future__ import annotations

import hmac

from connexion.lifecycle import ConnexionRequest

from codestand.context import services_of
from codestand.core import tenants
from codestand.core.errors import Forbidden, Problem
from codestand.http.auth import authorizations

# The control plane names a tenant in its paths in at most 500 characters.
MAX_KEY_LENGTH = 500


def thought_industries_key(token: str, request: ConnexionRequest) -> dict | None:
    """Any non-empty API key of at most 500 characters names its own tenant, unless
    `--ti-api-key` lists the keys or `--ti-keys` declares them (each naming its instance and
    role, see `keys`)."""
    key = token.strip()
    # Several Authorization headers are no credential: which one would count is a guess (and
    # the order a proxy puts them in); HTTP lets a non-list header be sent once.
    given = authorizations(request.scope)
    # `Bearer: key` is tolerated for Moltin's old SDKs only (see ColonBearer).
    if not key or len(given) != 1 or given[0][:7].lower() != b"bearer ":
        return None
    if len(key) > MAX_KEY_LENGTH:
        return None
    services = services_of(request.scope)
    declared = services.ti.keys if services.ti is not None else {}
    allowed = services.settings.ti_api_keys
    found = next((k for name, k in declared.items() if hmac.compare_digest(key.encode(), name.encode())), None)
    if found is not None:
        # A declared key opens its instance, as far as its role lets it (vendor page
        # "Authentication"; 403 "check the role assigned to your API key": "Status codes").
        method = request.scope["method"]
        if not found.allows(method):
            operation = f"{method} {request.scope['path']}"
            raise Forbidden(Problem("forbidden_role", params={"role": found.role, "operation": operation}))
        name = found.instance
    elif (declared or allowed) and not any(hmac.compare_digest(key.encode(), k.encode()) for k in allowed):
        return None
    else:
        name = key
    tenant = tenants.ti(name)
    services.tenants.use(tenant)
    return {"sub": tenant}
