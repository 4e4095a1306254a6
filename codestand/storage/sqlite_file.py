"""Opening the SQLite file: refuse what is not ours or too new, create or upgrade what is.

Everything here runs once, at start, before anything is served, and says what is wrong in a
`StorageError`. A file that is refused is left exactly as it was: the header is read as plain
bytes and the version through a read-only connection, before any write is attempted.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from codestand.storage.base import StorageError

# The first 16 bytes of every SQLite 3 database file (https://sqlite.org/fileformat.html).
HEADER = b"SQLite format 3\x00"

# A writer in another process holds the lock for one short transaction; waiting this long for
# it means something is stuck, and the request fails rather than hanging.
BUSY_TIMEOUT_SECONDS = 15.0

# FULL: the write-ahead log is synced to disk at every commit, so a write answered 2xx survives
# an operating-system crash or power loss too, not only a crash of codestand (see docs/STORAGE.md).
SYNCHRONOUS = "FULL"

# Page cache per connection, in KiB: what a write dirties before its commit. A process holds a
# connection per thread (the event loop's and the store's worker threads), so reads go through
# one memory map of the file instead, shared by them all (and, as the OS's page cache, by the
# worker processes): the file's pages are resident once a process, not once a connection.
CACHE_KIB = 2 * 1024
MMAP_BYTES = 1 << 30


def prepare(path: Path, *, schema: Sequence[str], version: int, migrations: Mapping[int, Sequence[str]]) -> None:
    """Make `path` a codestand database of schema `version`, or raise `StorageError`.

    A missing or empty file gets `schema`; a file of an older version gets the `migrations`
    from its version up (`migrations[n]` takes a file from version n to n + 1), all in one
    transaction, so a crash during an upgrade leaves the old file.
    """
    _check_path(path)
    found = _read_version(path)
    if found is not None:
        _check_version(path, found, version)
    try:
        db = connect(path)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open storage file {path} for writing: {exc}") from None
    try:
        _use_wal(db, path)
        _install(db, path, schema=schema, version=version, migrations=migrations)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot write storage file {path}: {exc}") from None
    finally:
        db.close()


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection for one thread, in autocommit mode: the store begins its own transactions.

    `check_same_thread` is off only so that `close()` may be called from another thread; the
    store still gives each thread a connection of its own. Without `create`, a missing file is
    an error rather than a new, empty database: while serving, the file `prepare` made must be
    the one used, even if it was deleted meanwhile.
    """
    target = path if create else f"file:{quote(str(path.resolve()))}?mode=rw"
    db = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False, uri=not create)
    db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    # A group write reads the pages its random codes land on, all over the code table: mapped,
    # a tenant with a few hundred thousand codes reads them without a cache of its size per thread.
    db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    return db


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise StorageError(f"storage path {path} is a directory; give a file name, e.g. {path / 'codestand.sqlite'}")
    directory = path.parent
    if not directory.is_dir():
        raise StorageError(f"cannot create storage file {path}: directory {directory} does not exist")
    if path.exists():
        try:
            with path.open("rb") as file:
                head = file.read(len(HEADER))
        except OSError as exc:
            raise StorageError(f"cannot read storage file {path}: {exc.strerror}") from None
        if head and head != HEADER:
            raise StorageError(f"storage file {path} is not a SQLite database; it is left untouched: choose another path")
        if not os.access(path, os.W_OK):
            raise StorageError(f"storage file {path} cannot be written (permissions); it is left untouched")
    # WAL mode keeps PATH-wal and PATH-shm beside the file, so the directory must be writable too.
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StorageError(f"cannot write in directory {directory}, where the storage file {path.name} and its -wal and -shm files live")


def _read_version(path: Path) -> int | None:
    """The schema version of an existing database, read without writing; None if there is none yet.

    Version 0 with tables in it is a SQLite file that some other program made: refused here.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            found = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read storage file {path}: {exc}; it is left untouched") from None
    if found == 0 and tables:
        raise StorageError(f"storage file {path} is a SQLite database of another program; it is left untouched: choose another path")
    return found


def _check_version(path: Path, found: int, version: int) -> None:
    if found > version:
        raise StorageError(
            f"storage file {path} has schema version {found}, written by a newer codestand; this one reads "
            f"versions up to {version}. The file is left untouched: upgrade codestand or choose another path"
        )


def _use_wal(db: sqlite3.Connection, path: Path) -> None:
    """Write-ahead logging lets readers and one writer of any process proceed at once.

    The mode is stored in the file, so it is set once; setting it needs a moment with no other
    connection, which is why it is done here, at start, and only when not yet set.
    """
    if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        raise StorageError(
            f"storage file {path} cannot use write-ahead logging (journal mode stays {mode!r}); "
            "is it on a network file system? Use a local disk"
        )


def _install(
    db: sqlite3.Connection, path: Path, *, schema: Sequence[str], version: int, migrations: Mapping[int, Sequence[str]]
) -> None:
    # IMMEDIATE: two processes starting on a new file at once must not both create the tables.
    db.execute("BEGIN IMMEDIATE")
    try:
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found == version:
            db.execute("ROLLBACK")
            return
        _check_version(path, found, version)
        if found == 0:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise StorageError(f"storage file {path} is a SQLite database of another program; choose another path")
            statements = list(schema)
        else:
            missing = [n for n in range(found, version) if n not in migrations]
            if missing:
                raise StorageError(f"storage file {path} has schema version {found}, which this codestand cannot upgrade")
            statements = [s for n in range(found, version) for s in migrations[n]]
        for statement in statements:
            db.execute(statement)
        # PRAGMA takes no parameters; `version` is an int of ours, not input.
        db.execute(f"PRAGMA user_version = {int(version)}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
