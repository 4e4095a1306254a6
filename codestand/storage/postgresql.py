"""The PostgreSQL backend: one database that any number of codestand processes share, on any
number of machines (`--storage postgresql://USER:PASSWORD@HOST:PORT/DB`).

The statements are the SQL store's (`codestand.storage.sql`), as for SQLite; this module gives
them pooled psycopg 3 connections (autocommit: the store begins its own transactions), brings
the schema up to date at start under an advisory lock (one process at a time; a database of a
newer codestand is refused and left untouched), and reads the driver's failures while serving
as `StorageUnavailable`: 503 in the vendor's shape, and the pool reconnects by itself once the
server is back. The password never leaves this module: every message names the server by
`shown(dsn)`, and any text from the driver is scrubbed of it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from codestand.storage.base import StorageError, StorageUnavailable
from codestand.storage.sql.dialect import PostgresDialect
from codestand.storage.sql.schema import SCHEMA_VERSION, migrations, schema
from codestand.storage.sql.store import SqlStorage, public_methods

SCHEMES = ("postgresql://", "postgres://")
# pg_advisory_lock's key for the schema: "cods" in ASCII. Held while one process checks and
# upgrades the schema, so replicas started together do not upgrade twice.
MIGRATION_LOCK = 0x636F6473
POOL_SIZE = 10
TIMEOUT_SECONDS = 5.0
RECONNECT_SECONDS = 10.0
# A write that lost a deadlock or serialization race to another transaction is tried again.
_RETRIES = 3


def is_spec(spec: str) -> bool:
    return spec.startswith(SCHEMES)


def shown(dsn: str) -> str:
    """The DSN with its password replaced by `***`: what may be logged or printed."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _password(dsn: str) -> str | None:
    try:
        return urlsplit(dsn).password
    except ValueError:
        return None


class PostgresStorage(SqlStorage):
    shared = True

    def __init__(self, dsn: str, *, pool_size: int = POOL_SIZE, timeout: float = TIMEOUT_SECONDS) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.dialect = PostgresDialect()
        # A thread for each connection, and a few more waiting for one.
        self.threads = max(1, pool_size) + 4
        self.shown = shown(dsn)
        self._secret = _password(dsn)
        self.timeout = timeout
        self._psycopg = psycopg
        self._prepare(dsn)
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout))},
            # Checked as it leaves the pool: a connection the server dropped (a restart) is
            # replaced before a request meets it, so nothing fails once the server is back.
            check=ConnectionPool.check_connection,
            timeout=timeout,
            # While the server is away the pool retries for a while, backing off, then gives up;
            # the next request that wants a connection starts a fresh attempt at once, so
            # service resumes with the server, however long it was away.
            reconnect_timeout=RECONNECT_SECONDS,
            open=False,
            name="codestand",
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except psycopg.Error as exc:
            self._pool.close()
            raise StorageError(f"cannot connect to PostgreSQL at {self.shown}: {self.scrub(exc)}") from None

    def scrub(self, exc: BaseException | str) -> str:
        """Text of the driver's, without the password (were it ever to quote it)."""
        message = str(exc).strip().replace("\n", " ")
        return message.replace(self._secret, "***") if self._secret else message

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._pool.connection() as raw:
            yield raw

    def close(self) -> None:
        self._pool.close()

    def connections(self) -> dict[str, int]:
        """The pool's counts (for metrics): connections open, idle, and requests waiting for one."""
        stats = self._pool.get_stats()
        return {"size": stats.get("pool_size", 0), "idle": stats.get("pool_available", 0), "waiting": stats.get("requests_waiting", 0)}

    # Start: the schema -------------------------------------------------------------------
    def _prepare(self, dsn: str) -> None:
        psycopg = self._psycopg
        try:
            raw = psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, round(self.timeout)))
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {self.shown}: {self.scrub(exc)}") from None
        try:
            with raw:
                raw.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
                try:
                    self._install(raw)
                finally:
                    raw.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        except psycopg.Error as exc:
            raise StorageError(f"cannot prepare PostgreSQL database {self.shown}: {self.scrub(exc)}") from None

    def _install(self, raw: Any) -> None:
        found = _version(raw)
        if found == SCHEMA_VERSION:
            return
        if found is not None and found > SCHEMA_VERSION:
            raise StorageError(
                f"database {self.shown} has schema version {found}, written by a newer codestand; this one reads "
                f"versions up to {SCHEMA_VERSION}. The database is left untouched: upgrade codestand or choose another database"
            )
        if found is None:
            if raw.execute("SELECT to_regclass('tenants')").fetchone()[0] is not None:
                raise StorageError(
                    f"database {self.shown} has a table `tenants` but no codestand schema version: it is another "
                    "program's; it is left untouched: choose another database"
                )
            statements = [*schema(self.dialect), "CREATE TABLE codestand_schema (version INTEGER NOT NULL)"]
            statements.append(f"INSERT INTO codestand_schema (version) VALUES ({int(SCHEMA_VERSION)})")
        else:
            steps = migrations(self.dialect)
            missing = [n for n in range(found, SCHEMA_VERSION) if n not in steps]
            if missing:
                raise StorageError(f"database {self.shown} has schema version {found}, which this codestand cannot upgrade")
            statements = [s for n in range(found, SCHEMA_VERSION) for s in steps[n]]
            statements.append(f"UPDATE codestand_schema SET version = {int(SCHEMA_VERSION)}")
        # One transaction: a crash during an upgrade leaves the old schema (PostgreSQL's DDL is
        # transactional).
        raw.execute("BEGIN")
        try:
            for statement in statements:
                raw.execute(statement)
            raw.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                raw.execute("ROLLBACK")
            raise


def _version(raw: Any) -> int | None:
    if raw.execute("SELECT to_regclass('codestand_schema')").fetchone()[0] is None:
        return None
    row = raw.execute("SELECT max(version) FROM codestand_schema").fetchone()
    return row[0] if row else None


# Failures while serving -------------------------------------------------------------------


def _unavailable(store: PostgresStorage, exc: BaseException) -> StorageUnavailable | None:
    """The `StorageUnavailable` that `exc` means, or None if it means a bug."""
    psycopg = store._psycopg
    from psycopg_pool import PoolTimeout

    if isinstance(exc, PoolTimeout):
        return StorageUnavailable(f"no connection to the database could be had within {store.timeout:g} seconds")
    if isinstance(exc, psycopg.errors.DiskFull):
        return StorageUnavailable("the database's disk is full")
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return StorageUnavailable("the database is read-only (a standby?)")
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return StorageUnavailable("the database cannot be reached")
    return None


def _translated(method):
    """`method`, with the driver's failures raised as `StorageUnavailable`, and a write that lost
    a deadlock or serialization race tried again (it was rolled back whole)."""

    @functools.wraps(method)
    def translated(self: PostgresStorage, *args, **kwargs):
        psycopg = self._psycopg
        for attempt in range(_RETRIES):
            try:
                return method(self, *args, **kwargs)
            except psycopg.errors.TransactionRollback:
                if attempt == _RETRIES - 1:
                    raise StorageUnavailable("the database kept refusing the write as conflicting with others") from None
                time.sleep(0.01 * (attempt + 1))
            except psycopg.Error as exc:
                unavailable = _unavailable(self, exc)
                if unavailable is None:
                    raise
                raise unavailable from None
        raise AssertionError("unreachable")

    return translated


def _wrap() -> None:
    for name in public_methods(PostgresStorage):
        if name not in ("scrub", "connections"):
            setattr(PostgresStorage, name, _translated(getattr(PostgresStorage, name)))


_wrap()
