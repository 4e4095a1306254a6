"""Several worker processes on one port, all sharing one file-backed store.

uvicorn's supervisor starts the workers (spawned, not forked: nothing of the parent's state,
such as an open database connection, is inherited), restarts one that dies, and stops them
all on SIGINT or SIGTERM. Each worker builds its own app from the parent's settings, which
travel to it with the factory, and opens its own connections to the store.

On Linux each worker listens on a socket of its own, bound to the port with SO_REUSEPORT, and
the kernel spreads new connections over them evenly (by a hash of the client's address and
port). On one socket shared by all, whichever worker woke first took the connections waiting:
with 32 clients connecting at once to two idle workers, one did a twentieth of the other's
work in one run of three (tests/test_workers.py). Elsewhere (SO_REUSEPORT does not spread
connections on macOS or the BSDs) the workers share one listening socket, as before.
"""

from __future__ import annotations

import functools
import logging
import socket
import sys
import warnings
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from codestand.settings import KEEP_ALIVE_SECONDS, Settings
from codestand.storage.base import Storage

if TYPE_CHECKING:  # importing Connexion warns; the worker quiets that first
    from starlette.types import ASGIApp, Receive, Scope, Send


class ClosingStore:
    """Closes the store when the worker stops (the ASGI lifespan's shutdown).

    uvicorn ends a worker by re-raising the signal that stopped it, so nothing would close the
    store otherwise; closed, the last process out folds the write-ahead log back into the file
    and removes PATH-wal and PATH-shm.
    """

    def __init__(self, app: ASGIApp, store: Storage) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


# The listen queue: connections the kernel holds for a worker until it accepts them.
BACKLOG = 2048


def own_listeners() -> bool:
    """Whether each worker listens on a socket of its own (see the module's docstring)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class OwnListener:
    """The port, as the supervisor hands it to each worker it starts: it is pickled to travel
    to the spawned worker, and unpickling it there opens that worker's own listening socket."""

    def __init__(self, held: socket.socket) -> None:
        self.family = held.family
        self.address = held.getsockname()  # the port the parent holds, chosen there when 0

    def __reduce__(self) -> tuple:
        return listen_on, (self.family, self.address)


def listen_on(family: int, address: tuple) -> socket.socket:
    """A worker's listening socket on the port its parent holds."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        # Unpickling runs before uvicorn's worker code: exiting so is what tells the supervisor
        # that this worker cannot start, and it stops rather than restart it over and over.
        sys.stderr.write(f"codestand: a worker cannot listen on port {address[1]}: {exc.strerror}\n")
        sys.exit(STARTUP_FAILURE)
    sock.listen(BACKLOG)
    return sock


def worker_app(settings: Settings) -> ClosingStore:
    """What each worker serves: the app, built in the worker from the parent's settings."""
    # As `cli.serve` does in the parent: quiet Connexion's import warnings, log like the parent.
    warnings.filterwarnings("ignore", module="connexion.apps.abstract")
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from codestand import logs

    logs.configure(settings.log_format)

    from codestand.app import create_app

    app = create_app(settings)
    return ClosingStore(app, app.codestand.store)  # type: ignore[attr-defined]


def serve_workers(settings: Settings, sock: socket.socket) -> int:
    """Serve on `sock`'s port with `settings.workers` processes until told to stop; the exit
    status. `sock` stays open meanwhile: it holds the port for workers that are restarted."""
    config = uvicorn.Config(
        functools.partial(worker_app, settings),
        factory=True,
        workers=settings.workers,
        access_log=False,
        log_level="warning",
        lifespan="on",  # for ClosingStore only
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    listeners = [OwnListener(sock)] if own_listeners() else [sock]
    supervisor = Multiprocess(config, sockets=listeners)  # type: ignore[list-item]
    logging.getLogger("codestand").info("%d worker processes", settings.workers)
    supervisor.run()
    logging.getLogger("codestand").info("stopped")
    # A worker that could not start stops the supervisor too; that is a failure, not a stop.
    return 1 if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes) else 0
