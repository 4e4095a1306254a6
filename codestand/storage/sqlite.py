"""The SQLite backend: everything both vendors keep, in one file that several processes share.

The statements are the SQL store's (`codestand.storage.sql`); this module gives them a
connection per thread (sqlite3 connections must not be used by two threads at once) and reads
SQLite's failures of the file as `StorageUnavailable`. Opening the file (refusing what is not
ours, creating, upgrading) is `sqlite_file`'s. Each write is one `BEGIN IMMEDIATE` transaction:
a writer in another process waits for the lock (the busy timeout) instead of interleaving.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from codestand.storage import sqlite_file
from codestand.storage.base import StorageUnavailable
from codestand.storage.sql.dialect import SqliteDialect
from codestand.storage.sql.schema import SCHEMA_VERSION, migrations, schema
from codestand.storage.sql.store import SqlStorage, public_methods

DIALECT = SqliteDialect()
SCHEMA = tuple(schema(DIALECT))
# MIGRATIONS[n]: the statements that take a file from schema version n to n + 1.
MIGRATIONS = {n: tuple(steps) for n, steps in migrations(DIALECT).items()}

__all__ = ["MIGRATIONS", "SCHEMA", "SCHEMA_VERSION", "SqliteStorage"]


class _Connection:
    """One thread's connection; a weak-referenceable holder, so the store can close them all."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db


class SqliteStorage(SqlStorage):
    dialect = DIALECT
    # One writer at a time in any case; each thread holds a connection and its page cache.
    threads = 4

    def __init__(self, path: str | os.PathLike[str], *, shared: bool = False) -> None:
        self.path = Path(path)
        self.shared = shared
        sqlite_file.prepare(self.path, schema=SCHEMA, version=SCHEMA_VERSION, migrations=MIGRATIONS)
        # One connection per thread: sqlite3 connections must not be shared by threads at once,
        # and the app calls the store from worker threads, tests from theirs.
        self._local = threading.local()
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._open_lock = threading.Lock()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        holder = getattr(self._local, "connection", None)
        if holder is None:
            holder = _Connection(sqlite_file.connect(self.path, create=False))
            self._local.connection = holder
            with self._open_lock:
                self._open.add(holder)
        yield holder.db

    def _forget_connection(self) -> None:
        """Close this thread's connection; the next call opens a fresh one (see `_translated`)."""
        holder = getattr(self._local, "connection", None)
        self._local.connection = None
        if holder is not None:
            with self._open_lock:
                self._open.discard(holder)
            with contextlib.suppress(sqlite3.Error):
                holder.db.close()

    def close(self) -> None:
        with self._open_lock:
            holders = list(self._open)
            self._open = weakref.WeakSet()
        for holder in holders:
            holder.db.close()
        self._local = threading.local()


# Failures of the file while serving ------------------------------------------------------

# SQLite's primary result codes (https://sqlite.org/rescode.html) that mean the file cannot be
# used right now, rather than a mistake of ours: what a client is told. Any other error is a
# bug, and is answered as one (500).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_PROTOCOL = 13, 14, 15
_READ_ERRORS = frozenset({"SQLITE_IOERR_READ", "SQLITE_IOERR_SHORT_READ"})
_SQLITE_READONLY_DBMOVED = _SQLITE_READONLY | (4 << 8)


def _unavailable(exc: sqlite3.Error) -> StorageUnavailable | None:
    """The `StorageUnavailable` that `exc` means, or None if it means a bug."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        reason = f"another process has held the storage file's lock for over {sqlite_file.BUSY_TIMEOUT_SECONDS:g} seconds"
    elif primary == _SQLITE_FULL:
        reason = "the disk is full"
    elif code == _SQLITE_READONLY_DBMOVED:
        reason = "the storage file was moved or deleted while the server runs"
    elif primary == _SQLITE_READONLY:
        reason = "the storage file is read-only"
    elif primary == _SQLITE_IOERR:
        verb = "read" if getattr(exc, "sqlite_errorname", "") in _READ_ERRORS else "written"
        reason = f"the storage file cannot be {verb} (disk I/O error)"
    elif primary in (_SQLITE_CANTOPEN, _SQLITE_PROTOCOL):
        reason = "the storage file cannot be opened"
    else:
        return None
    return StorageUnavailable(reason)


def _translated(method):
    """`method`, with SQLite's failures of the file raised as `StorageUnavailable`.

    Every write is one transaction, so a write that fails this way has written nothing: the
    client may simply try again, and the same connection serves the next call (reads go on
    working meanwhile: a fresh connection could not even open while no file can be written).
    Two cases need a fresh connection: one still in a transaction that its ROLLBACK could not
    end, and one SQLite opened read-only because the file was not writable at that moment,
    which it never leaves; that one is replaced and the call made once more at once, since
    the file may well be writable by now.
    """

    @functools.wraps(method)
    def translated(self: SqliteStorage, *args, **kwargs):
        for attempt in (1, 2):
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                unavailable = _unavailable(exc)
                if unavailable is None:
                    raise
                opened_read_only = exc.sqlite_errorcode == _SQLITE_READONLY
                holder = getattr(self._local, "connection", None)
                if opened_read_only or (holder is not None and holder.db.in_transaction):
                    self._forget_connection()
                if attempt == 2 or not opened_read_only:
                    raise unavailable from exc
        raise AssertionError("unreachable")

    return translated


for _name in public_methods(SqliteStorage):
    setattr(SqliteStorage, _name, _translated(getattr(SqliteStorage, _name)))
