"""Credentials to tenants, called by Connexion for the security schemes in `openapi.yaml`.

Returning None makes Connexion answer 401, which the error path renders in the vendor's shape.
"""

from __future__ import annotations

import hmac

from connexion.lifecycle import ConnexionRequest

from codestand.context import services_of


def thought_industries_key(token: str, request: ConnexionRequest) -> dict | None:
    """Any non-empty API key names its own tenant, unless `--ti-api-key` lists the keys."""
    key = token.strip()
    if not key:
        return None
    allowed = services_of(request.scope).settings.ti_api_keys
    if allowed and not any(hmac.compare_digest(key.encode(), k.encode()) for k in allowed):
        return None
    return {"sub": key}
