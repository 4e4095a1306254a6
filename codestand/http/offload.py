"""Handlers run off the event loop, for a store whose calls wait (on a database server, on a
file's lock): a request waiting on the store then holds up no other request of its worker.

The handlers are coroutine functions that never suspend (they call the domain, which calls
the store, synchronously), so one is driven to its end in a worker thread, with the request's
context variables (Connexion's scope, the snapshot of shared state) copied along. The memory
store does not wait, and its requests stay on the loop, saving the thread hop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import typing as t
from concurrent.futures import ThreadPoolExecutor

# Threads for requests waiting on the store at once, per process: what the store can use
# (`reserve`). More is no use: a SQLite file takes one writer at a time, and each thread keeps a
# connection and its page cache; PostgreSQL's requests beyond the pool wait for a connection.
_threads = 4
_executor: ThreadPoolExecutor | None = None


def reserve(threads: int) -> None:
    """Let at least `threads` requests wait on the store at once (an app calls this at start)."""
    global _threads
    _threads = max(_threads, threads)
    if _executor is not None:
        # Raised in place: the executor starts threads up to this bound as work arrives.
        _executor._max_workers = max(_executor._max_workers, _threads)  # type: ignore[attr-defined]


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="codestand-store")
    return _executor


async def run(function: t.Callable, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """`function(*args, **kwargs)` in a worker thread, in a copy of this context."""
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(executor(), call)


def drive(handler: t.Callable, args: tuple, kwargs: dict) -> t.Any:
    coroutine = handler(*args, **kwargs)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError(f"{handler.__qualname__} awaited something; a handler run off the loop must not")


def off_loop(handler: t.Callable) -> t.Callable:
    """`handler` (a coroutine function that never suspends), run in a worker thread."""

    @functools.wraps(handler)
    async def offloaded(*args: t.Any, **kwargs: t.Any) -> t.Any:
        return await run(drive, handler, args, kwargs)

    return offloaded
