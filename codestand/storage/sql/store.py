"""`SqlStorage`: the storage interface in SQL, once, for SQLite and PostgreSQL.

The statements live in one module per vendor's tables (`thoughtindustries`, `moltin`) and one
for the control plane's shared state (`control`); this class puts them together. A backend
(`codestand.storage.sqlite`, `codestand.storage.postgresql`) adds only how a connection is had
and how its failures read; its `dialect` spells the statements.

Each write is one transaction, begun by locking its tenant's row on PostgreSQL (`common.tenant_number`): a
group and all its codes, or a batch of promotion codes, are committed together or not at all,
and the writers of one tenant take turns, in one process or many. Codes are unique within a
tenant by the tables' keys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from codestand.storage.base import Storage
from codestand.storage.sql.common import TENANT, Db
from codestand.storage.sql.control import ControlTables
from codestand.storage.sql.coordination import CoordinationTables
from codestand.storage.sql.dialect import Dialect
from codestand.storage.sql.moltin import MoltinTables
from codestand.storage.sql.moltin_history import MoltinHistoryTables
from codestand.storage.sql.schema import STATE_TABLES
from codestand.storage.sql.thoughtindustries import ThoughtIndustriesTables
from codestand.storage.sql.ti_pages import ThoughtIndustriesPages


class SqlStorage(ThoughtIndustriesPages, ThoughtIndustriesTables, MoltinTables, MoltinHistoryTables, ControlTables, CoordinationTables, Storage):
    dialect: Dialect
    # Several processes see the same state through this store (so the control plane's state
    # belongs in it too); a backend on a server always is, a file only when shared by workers.
    shared = False
    waits = True

    # A backend's part ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        """A connection of the driver's, in autocommit mode, for one call of the store."""
        raise NotImplementedError
        yield

    # Transactions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _read(self) -> Iterator[Db]:
        """One statement's worth of reading, without a transaction of its own."""
        with self._connection() as raw:
            yield Db(raw, self.dialect)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Db]:
        """Several reads from one snapshot, e.g. a page and the size of the whole list."""
        with self._connection() as raw:
            yield from self._transaction(raw, self.dialect.begin_read)

    @contextlib.contextmanager
    def _writing(self, *, relaxed: bool = False) -> Iterator[Db]:
        """One write transaction: all of it is committed, or none. `relaxed`: one whose loss in
        a power cut is harmless, whose commit does not wait for the disk (`Dialect.relaxed`)."""
        with self._connection() as raw:
            yield from self._transaction(raw, self.dialect.begin_write, self.dialect.relaxed if relaxed else None)

    def _transaction(self, raw: Any, begin: str, relaxed: tuple | None = None) -> Iterator[Db]:
        before, after_begin, after = relaxed or ((), (), ())
        for statement in before:
            raw.execute(statement)
        try:
            raw.execute(begin)
            for statement in after_begin:
                raw.execute(statement)
            try:
                yield Db(raw, self.dialect)
                raw.execute("COMMIT")
            except BaseException:
                # A ROLLBACK that fails too (the disk or the server is gone) leaves the
                # connection to the backend to replace; the error that got here is the one to
                # report.
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")
                raise
        finally:
            for statement in after:
                with contextlib.suppress(Exception):
                    raw.execute(statement)

    # Whole store ------------------------------------------------------------------------
    def ping(self) -> None:
        with self._read() as db:
            db.one("SELECT count(*) FROM tenants")

    def stored_codes(self) -> dict[str, int]:
        with self._read() as db:
            # code_lengths counts every group write: no pass over the code table.
            redemption = db.value("SELECT coalesce(sum(codes), 0) FROM code_lengths")
            promotion = db.value("SELECT count(*) FROM promotion_codes")
        return {"thoughtindustries": int(redemption), "moltin": int(promotion)}

    def unfinished_job_counts(self) -> dict[str, int]:
        with self._read() as db:
            rows = dict(db.execute("SELECT status, count(*) FROM promotion_jobs WHERE status IN ('pending', 'processing') GROUP BY status").fetchall())
        return {status: int(rows.get(status, 0)) for status in ("pending", "processing")}

    def reset(self, tenant: str | None = None) -> None:
        # The `tenants` rows stay: live tokens still name their tenant by its number.
        with self._writing() as db:
            for table in STATE_TABLES:
                if tenant is None:
                    db.execute(f"DELETE FROM {table}")
                else:
                    db.execute(f"DELETE FROM {table} WHERE tenant = {TENANT}", (tenant,))


def public_methods(cls: type) -> list[str]:
    """The store methods a request calls: every public one but `close`, wherever defined."""
    return [
        name
        for name in dir(cls)
        if not name.startswith("_") and name not in ("close", "shared", "waits", "dialect") and callable(getattr(cls, name))
    ]
