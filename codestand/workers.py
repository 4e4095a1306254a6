"""Several worker processes on one listening socket, all sharing one file-backed store.

uvicorn's supervisor starts the workers (spawned, not forked: nothing of the parent's state,
such as an open database connection, is inherited), restarts one that dies, and stops them
all on SIGINT or SIGTERM. Each worker builds its own app from the parent's settings, which
travel to it with the factory, and opens its own connections to the store.
"""

from __future__ import annotations

import functools
import logging
import socket
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
    """Serve on `sock` with `settings.workers` processes until told to stop; the exit status."""
    config = uvicorn.Config(
        functools.partial(worker_app, settings),
        factory=True,
        workers=settings.workers,
        access_log=False,
        log_level="warning",
        lifespan="on",  # for ClosingStore only
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    supervisor = Multiprocess(config, sockets=[sock])
    logging.getLogger("codestand").info("%d worker processes", settings.workers)
    supervisor.run()
    logging.getLogger("codestand").info("stopped")
    # A worker that could not start stops the supervisor too; that is a failure, not a stop.
    return 1 if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes) else 0
