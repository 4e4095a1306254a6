"""What every table module of the SQL store uses: a connection in one dialect, the tenant's
number, batches of codes inserted all or nothing, and values in and out of columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from codestand.storage.base import CodesTaken
from codestand.storage.sql.dialect import Dialect

# A tenant's number, in a statement that reads by tenant name.
TENANT = "(SELECT id FROM tenants WHERE name = ?)"

# Parameters per `IN (...)` list: far below the smallest limit SQLite has ever had (999).
CHUNK = 500


class Db:
    """One connection, spoken to in SQLite's spelling whatever the dialect."""

    __slots__ = ("raw", "dialect")

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    def execute(self, statement: str, params: Sequence = ()) -> Any:
        return self.raw.execute(self.dialect.sql(statement), self.dialect.params(params))

    def executemany(self, statement: str, rows: Iterable[Sequence]) -> int:
        return self.dialect.executemany(self.raw, statement, rows)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        self.dialect.insert_rows(self.raw, table, columns, rows)

    def one(self, statement: str, params: Sequence = ()) -> tuple | None:
        return self.execute(statement, params).fetchone()

    def value(self, statement: str, params: Sequence = ()) -> Any:
        row = self.one(statement, params)
        return row[0] if row else None


def tenant_number(db: Db, tenant: str) -> int:
    """The tenant's number, given it on its first write.

    Read with a row lock on PostgreSQL (`FOR UPDATE`, held until the write commits): the
    writers of one tenant then take turns, as they do on SQLite's write lock, and a check made
    inside a write (a quota) still holds when it commits.
    """
    lock = db.dialect.lock_row
    number = db.value(f"SELECT id FROM tenants WHERE name = ?{lock}", (tenant,))
    if number is None:
        # Not an upsert that always writes: SQLite would count a number off for each one.
        db.execute("INSERT INTO tenants (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (tenant,))
        number = db.value(f"SELECT id FROM tenants WHERE name = ?{lock}", (tenant,))
    return number


def insert_codes(db: Db, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> BaseException | None:
    """Insert code rows; if a key refuses one, none of them is written and the refusal returned.

    The savepoint undoes the rows inserted before the refusal (and, on PostgreSQL, the error
    that would end the transaction), so the caller can then ask which codes were taken
    without seeing its own.
    """
    db.execute("SAVEPOINT codes")
    try:
        db.insert_rows(table, columns, rows)
    except db.dialect.integrity_errors as refused:
        db.execute("ROLLBACK TO SAVEPOINT codes")
        return refused
    finally:
        db.execute("RELEASE SAVEPOINT codes")
    return None


def codes_taken_error(clash: set[str], refused: BaseException) -> BaseException:
    """`CodesTaken` naming the clash; if no code clashes, the refusal was about something else
    and is passed on as it is, rather than reported as taken codes."""
    return CodesTaken(clash) if clash else refused


def taken(db: Db, table: str, tenant: str, codes: Iterable[str]) -> set[str]:
    if db.dialect.arrays:
        # One statement, one index lookup a code. (With IN lists PostgreSQL's planner may scan
        # all the tenant's codes once a list: 10,000 codes took seconds.)
        rows = db.execute(
            f"SELECT c.code FROM unnest(?::text[]) AS u(code) JOIN {table} c ON c.code = u.code WHERE c.tenant = {TENANT}",
            (list(codes), tenant),
        )
        return {code for (code,) in rows}
    found: set[str] = set()
    for chunk in chunks(list(codes)):
        rows = db.execute(f"SELECT code FROM {table} WHERE tenant = {TENANT} AND code IN ({marks(chunk)})", (tenant, *chunk))
        found.update(code for (code,) in rows)
    return found


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def marks(chunk: Sequence[str]) -> str:
    return ", ".join("?" * len(chunk))


def repeated(codes: list[str]) -> set[str]:
    return {code for code, n in Counter(codes).items() if n > 1}


def text(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds, one width for every instant, so text order is time
    order; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)
