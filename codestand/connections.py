"""Closing a client's connection without any answer, for the `drop` fault.

ASGI has no message for "hang up": an app that raises or returns without answering gets a 500
from uvicorn. So the fault raises `ConnectionDropped`, and the app object itself, the one
uvicorn calls with its own `send`, aborts uvicorn's transport for that request. The client
sees the connection closed with no response (httpx: `RemoteProtocolError`); the server goes on.
In-process test clients, which have no connection, get `ConnectionAbortedError` raised.
"""

from __future__ import annotations

import asyncio

from connexion import AsyncApp
from starlette.types import Receive, Scope, Send


class ConnectionDropped(BaseException):
    """Raised to hang up on the client.

    A BaseException, as asyncio's CancelledError is, so that no `except Exception` on its way
    out (Connexion's error handlers, Starlette's 500 page) turns it into an answer.
    """


class DroppingApp(AsyncApp):
    """Connexion's app, able to hang up when a request raises `ConnectionDropped`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except ConnectionDropped:
            # uvicorn's `send` is a method of the request's cycle, which holds the transport.
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is None:
                # Not uvicorn: an in-process test client has no connection to close, so it gets
                # the nearest thing, an exception it can expect. (A BaseException would break
                # the client's own task handling.)
                raise ConnectionAbortedError("the connection was dropped by a fault rule") from None
            transport.abort()
            # Let uvicorn learn of the lost connection before it would answer a 500 for us.
            await asyncio.sleep(0)
