"""Reading bearer credentials: what every vendor's security scheme shares.

The credential functions themselves (a key or a token to a tenant) live with their vendors
(`codestand.thoughtindustries.auth`, `codestand.moltin.auth`); Connexion calls them for the
security schemes in `openapi.yaml`.
"""

from __future__ import annotations

import functools

from connexion.security import BearerSecurityHandler

from codestand.http import offload


def authorizations(scope) -> list[bytes]:
    """The request's Authorization header values, read from the ASGI scope itself.

    The credential functions read nothing but `request.scope`, so the fast path can call
    them without building a request object (and Starlette's header view, twice) for each request;
    the fast path and the admin gate read the header through this too.
    """
    return [value for name, value in scope["headers"] if name == b"authorization"]


class ColonBearer(BearerSecurityHandler):
    """Old Moltin SDKs send `Authorization: Bearer: <token>`; read it as `Bearer <token>`."""

    # The credential function looks the token up in the store: with a store that waits, it
    # runs in a worker thread (Connexion awaits the coroutine it then returns).
    offload = False

    @classmethod
    def offloading(cls) -> type[ColonBearer]:
        return type("OffloadingColonBearer", (cls,), {"offload": True})

    def check_bearer_token(self, token_info_func):
        if self.offload:
            token_info_func = _off_loop(token_info_func)
        return super().check_bearer_token(token_info_func)

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


def _off_loop(function):
    @functools.wraps(function)
    def offloaded(*args, **kwargs):
        return offload.run(function, *args, **kwargs)  # a coroutine, which Connexion awaits

    return offloaded
