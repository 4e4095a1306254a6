"""Connections that end without an answer: hung up by the `drop` fault, or by the client.

ASGI has no message for "hang up": an app that raises or returns without answering gets a 500
from uvicorn. So the fault raises `ConnectionDropped`, and the app object itself, the one
uvicorn calls with its own `send`, aborts uvicorn's transport for that request. The client
sees the connection closed with no response (httpx: `RemoteProtocolError`); the server goes on.
In-process test clients, which have no connection, get `ConnectionAbortedError` raised.

A client that closes its connection before it has sent the whole body has not made a request:
what arrived is not acted on (a form cut short can still parse, as another request), and
nothing is answered, logged as an error or journaled with a status the client never got.
`ClientDisconnected` ends such a request the same way, from the `receive` the app reads from.
"""

from __future__ import annotations

import asyncio

from connexion import AsyncApp
from starlette.types import Message, Receive, Scope, Send


class ConnectionDropped(BaseException):
    """Raised to hang up on the client.

    A BaseException, as asyncio's CancelledError is, so that no `except Exception` on its way
    out (Connexion's error handlers, Starlette's 500 page) turns it into an answer.
    """


class ClientDisconnected(BaseException):
    """The client went away before its request's body was complete; a BaseException for the
    same reason as `ConnectionDropped`."""


def _until_body_complete(receive: Receive) -> Receive:
    """`receive`, raising `ClientDisconnected` if the client leaves before the last body part.

    After the body, a disconnect is passed on as it is: an app may wait for it on purpose.
    """
    complete = False

    async def receive_body() -> Message:
        nonlocal complete
        message = await receive()
        if message["type"] == "http.request":
            complete = complete or not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not complete:
            raise ClientDisconnected()
        return message

    return receive_body


class DroppingApp(AsyncApp):
    """Connexion's app, able to hang up when a request raises `ConnectionDropped`, and to let a
    request go whose client left before sending all of it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, _until_body_complete(receive) if scope["type"] == "http" else receive, send)
        except ClientDisconnected:
            return  # nobody to answer; uvicorn expects no response from a disconnected request
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
