"""Moltin OAuth tokens: issued per store (client_id), valid for an hour by the domain's clock."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from codestand.core.clock import Clock
from codestand.core.errors import Problem, Unauthorized
from codestand.core.models import Token
from codestand.storage.base import Storage

LIFETIME = timedelta(seconds=3600)  # `expires_in: 3600` [doc]
# Where a request keeps the token it was resolved to: (the token sent, its live Token or None).
RESOLVED = "codestand.moltin.token"


def issue(
    store: Storage, clock: Clock, clients: dict[str, str], *, grant: str, client_id: str, client_secret: str | None
) -> Token:
    """A new token for `client_id`.

    With no configured clients any client_id and secret are accepted. With some, the client_id
    must be one of them and, for client_credentials, the secret must match; an implicit grant
    needs no secret, as the vendor's storefront flow has none.
    """
    if clients:
        known = clients.get(client_id)
        if known is None or (
            grant == "client_credentials" and not hmac.compare_digest(known.encode(), (client_secret or "").encode())
        ):
            raise Unauthorized(Problem("invalid_client"))
    token = Token(token=secrets.token_hex(20), tenant=client_id, grant=grant, expires_at=clock.now() + LIFETIME)
    store.save_token(token)
    return token


def resolve(store: Storage, clock: Clock, token: str) -> Token | None:
    """The live token behind `token`, or None if unknown or lapsed."""
    found = store.find_token(token)
    if found is None or clock.now() >= found.expires_at:
        return None
    return found


def resolve_once(scope: dict, store: Storage, clock: Clock, token: str) -> Token | None:
    """`resolve`, once a request: the rate limiter's lookup (`ratelimits`) is also the security
    check's (`auth`), rather than a second read of the store for every Moltin request."""
    kept = scope.get(RESOLVED)
    if kept is not None and kept[0] == token:
        return kept[1]
    found = resolve(store, clock, token)
    scope[RESOLVED] = (token, found)
    return found
