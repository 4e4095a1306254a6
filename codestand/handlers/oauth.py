"""`POST /oauth/access_token`: Moltin's token endpoint."""

from __future__ import annotations

import math

from connexion import request

from codestand.context import current
from codestand.domain import tokens


async def access_token(body: dict) -> dict:
    s = current()
    token = tokens.issue(
        s.store,
        s.clock,
        dict(s.settings.moltin_clients),
        grant=body["grant_type"],
        client_id=body["client_id"],
        client_secret=body.get("client_secret"),
    )
    # This route authenticates the client by its form, not by a security scheme: name the
    # tenant as security names it elsewhere, for the request journal.
    request.context["user"] = token.tenant
    return {
        "access_token": token.token,
        "token_type": "Bearer",
        # Epoch seconds; the JS SDK re-authenticates once `now >= expires` [doc].
        "expires": math.floor(token.expires_at.timestamp()),
        "expires_in": int(tokens.LIFETIME.total_seconds()),
        "identifier": token.grant,
    }
