"""The schema of the SQL store, versioned: what a new database gets, and the steps that bring
an older one up to date. Both dialects share it; `Dialect.ddl` fills in their few words.

- `SCHEMA_VERSION` is the version this codestand writes; a database of a newer one is refused.
- `schema(dialect)`: the statements of a new database, at `SCHEMA_VERSION`.
- `migrations(dialect)[n]`: the statements that take a database from version n to n + 1. Add one
  with each change of a table module (in that module, beside its tables) and bump the version.

Version 1 was the first SQLite release; PostgreSQL databases begin at version 2. Version 3 added
Moltin's promotion history, jobs and usages (`moltin_history`); version 4 Thought Industries'
`redemption_group_flags` (uploaded and gift groups, `ti_pages`); version 5 the stand-in's own
tenant settings, rate-limit windows and tenant uses (`coordination`), so replicas share them.
"""

from __future__ import annotations

from codestand.storage.sql import control, coordination, moltin, moltin_history, thoughtindustries, ti_pages
from codestand.storage.sql.dialect import Dialect

SCHEMA_VERSION = 5

TENANTS = (
    # Tenants are named by API keys and client_ids, often 30 or more characters; every other
    # table keys on this small number instead, which keeps the code tables (one row a code) and
    # so the pages a group write touches about a third smaller. A tenant forgotten by `reset`
    # never lends its number to a new one.
    """CREATE TABLE tenants (
        id {tenant_id},
        name TEXT NOT NULL UNIQUE
    )""",
)

# Every table that holds a tenant's state, children before parents; `reset` empties them.
STATE_TABLES = (*coordination.STATE, *moltin_history.STATE, *ti_pages.STATE, *thoughtindustries.STATE, *moltin.STATE)


def schema(dialect: Dialect) -> list[str]:
    # The statements of versions 3 to 5 last, as a database of version 2 gets them.
    statements = (
        *TENANTS, *thoughtindustries.TABLES, *moltin.TABLES, *control.TABLES,
        *moltin_history.TO_VERSION_3, *ti_pages.TO_VERSION_4, *coordination.TO_VERSION_5,
    )  # fmt: skip
    return [dialect.ddl(s) for s in statements]


def migrations(dialect: Dialect) -> dict[int, list[str]]:
    return {
        1: [dialect.ddl(s) for s in (*thoughtindustries.TO_VERSION_2, *control.TABLES)],
        2: [dialect.ddl(s) for s in moltin_history.TO_VERSION_3],
        3: [dialect.ddl(s) for s in ti_pages.TO_VERSION_4],
        4: [dialect.ddl(s) for s in coordination.TO_VERSION_5],
    }
