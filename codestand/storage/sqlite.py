"""The SQLite backend: everything both vendors keep, in one file that several processes share.

Each write is one `BEGIN IMMEDIATE` transaction: a group and all its codes, or a batch of
promotion codes, are committed together or not at all, and a writer in another process waits
for the lock (the busy timeout) instead of interleaving. Codes are unique within a tenant by the
tables' keys, so that holds across processes, not only inside one.

All the SQL of the backend is in this module and kept plain (`?` parameters, `ON CONFLICT`
upserts, savepoints, subqueries), so a PostgreSQL backend can follow with the same statements:
it would write `strpos` for `instr` and identity columns for `INTEGER PRIMARY KEY`, and drop
`WITHOUT ROWID`. Datetimes are stored as UTC ISO 8601 text, dicts (a promotion's `schema` and
`extras`, a group's catalog items) as JSON text.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

from codestand.core.models import (
    CatalogItem,
    Page,
    Promotion,
    PromotionCode,
    RedemptionEvent,
    RedemptionGroup,
    Token,
)
from codestand.moltin.tokens import LIFETIME
from codestand.storage import sqlite_file, sqlite_ti
from codestand.storage.base import (
    CATALOG_KINDS,
    AlreadyUsed,
    CodesTaken,
    GroupPosition,
    QuotaExceeded,
    Storage,
    StorageUnavailable,
)

SCHEMA_VERSION = 2

SCHEMA = (
    # Tenants are named by API keys and client_ids, often 30 or more characters; every other
    # table keys on this small number instead, which keeps the code tables (one row a code) and
    # so the pages a group write touches, and syncs, about a third smaller. AUTOINCREMENT: a
    # tenant forgotten by `reset` never lends its number to a new one.
    """CREATE TABLE tenants (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE catalog_items (
        tenant INTEGER NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        placeholder INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, id)
    )""",
    # `seq` is creation order, the order the vendor lists groups in.
    """CREATE TABLE redemption_groups (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        id TEXT NOT NULL,
        label TEXT NOT NULL,
        label_folded TEXT NOT NULL,
        code_length INTEGER NOT NULL,
        total_codes INTEGER NOT NULL,
        redeemed_codes INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        expiration_date TEXT,
        access_days INTEGER,
        access_expiration_date TEXT,
        catalog_json TEXT NOT NULL,
        UNIQUE (tenant, id)
    )""",
    # The key is the uniqueness of a code within its tenant, enforced for every process. There
    # is deliberately no index (nor foreign key, which would want one) by group: it would
    # double the cost of writing a group's codes, and no request lists a group's codes, so
    # `group_codes` reads through the tenant's codes instead.
    """CREATE TABLE redemption_codes (
        tenant INTEGER NOT NULL,
        code TEXT NOT NULL,
        group_seq INTEGER NOT NULL,
        position INTEGER NOT NULL,
        redeemed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, code)
    ) WITHOUT ROWID""",
    # Learners' redemptions, in the order they happened (`seq`): the vendor's event feed.
    """CREATE TABLE redemption_events (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        id TEXT NOT NULL,
        code TEXT NOT NULL,
        group_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        occurred_at TEXT NOT NULL
    )""",
    "CREATE INDEX redemption_events_by_tenant ON redemption_events (tenant, seq)",
    # Kept with every group write, so the code space check need not count codes one by one.
    """CREATE TABLE code_lengths (
        tenant INTEGER NOT NULL,
        length INTEGER NOT NULL,
        codes INTEGER NOT NULL,
        PRIMARY KEY (tenant, length)
    )""",
    """CREATE TABLE tokens (
        token TEXT PRIMARY KEY,
        tenant INTEGER NOT NULL,
        grant_type TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX tokens_by_tenant ON tokens (tenant)",
    """CREATE TABLE promotions (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        promotion_type TEXT NOT NULL,
        schema_json TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        automatic INTEGER,
        extras_json TEXT NOT NULL,
        UNIQUE (tenant, id)
    )""",
    # `seq` is the order codes were added in, the order they are listed in.
    """CREATE TABLE promotion_codes (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        code TEXT NOT NULL,
        uses INTEGER,
        code_user TEXT,
        consume_unit TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        UNIQUE (tenant, code),
        FOREIGN KEY (tenant, promotion_id) REFERENCES promotions (tenant, id)
    )""",
    "CREATE INDEX promotion_codes_by_promotion ON promotion_codes (tenant, promotion_id, seq)",
    *sqlite_ti.SCHEMA,
)

# migrations[n]: the statements that take a file from schema version n to n + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: sqlite_ti.MIGRATION_FROM_1}

# A tenant's state, children before parents (for the foreign keys). Not `tokens`: they are
# credentials, and stay valid across a reset until they lapse, as API keys do.
_TABLES = (
    "redemption_events",
    "redemption_codes",
    "code_lengths",
    "redemption_group_flags",
    "redemption_groups",
    "promotion_codes",
    "promotions",
    "catalog_items",
)
# A tenant's number, in a statement that reads by tenant name.
_TENANT = "(SELECT id FROM tenants WHERE name = ?)"

# Parameters per `IN (...)` list: far below the smallest limit SQLite has ever had (999).
_CHUNK = 500

_GROUP_COLUMNS = (
    "id, label, code_length, total_codes, redeemed_codes, created_at, "
    "expiration_date, access_days, access_expiration_date, catalog_json"
)
# Column names only, never input: `list_groups` checks `sort` against these keys.
_GROUP_ORDER = {
    "label": ("label_folded", "label"),
    "totalCodesCount": ("total_codes",),
    "redeemedCodesCount": ("redeemed_codes",),
}
_PROMOTION_COLUMNS = (
    "id, name, description, enabled, promotion_type, schema_json, starts_at, ends_at, "
    "created_at, updated_at, automatic, extras_json"
)
_CODE_COLUMNS = "code, uses, code_user, consume_unit, used"
# Every column but the id, for writing an updated promotion.
_PROMOTION_ASSIGNMENTS = ", ".join(f"{column.strip()} = ?" for column in _PROMOTION_COLUMNS.split(",")[1:])


class _Connection:
    """One thread's connection; a weak-referenceable holder, so the store can close them all."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db


class SqliteStorage(Storage):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        sqlite_file.prepare(self.path, schema=SCHEMA, version=SCHEMA_VERSION, migrations=MIGRATIONS)
        # One connection per thread: sqlite3 connections must not be shared by threads at once,
        # and the app calls the store from its event loop thread, tests from theirs.
        self._local = threading.local()
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._open_lock = threading.Lock()
        self._saved_tokens = 0

    # Connections and transactions -------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        holder = getattr(self._local, "connection", None)
        if holder is None:
            holder = _Connection(sqlite_file.connect(self.path, create=False))
            self._local.connection = holder
            with self._open_lock:
                self._open.add(holder)
        return holder.db

    def _forget_connection(self) -> None:
        """Close this thread's connection; the next call opens a fresh one (see `_translated`)."""
        holder = getattr(self._local, "connection", None)
        self._local.connection = None
        if holder is not None:
            with self._open_lock:
                self._open.discard(holder)
            with contextlib.suppress(sqlite3.Error):
                holder.db.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; it takes the file's write lock at once, so the checks made
        inside it still hold when it commits, whichever process writes next."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                # A ROLLBACK that fails too (the disk is gone) leaves the connection to be
                # forgotten by `_translated`; the error that got here is the one to report.
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """Several reads from one snapshot, e.g. a page and the size of the whole list."""
        db = self._db()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        with self._open_lock:
            holders = list(self._open)
            self._open = weakref.WeakSet()
        for holder in holders:
            holder.db.close()
        self._local = threading.local()

    # Catalog ---------------------------------------------------------------------------
    def catalog_items(self, tenant: str, kind: str, ids: Iterable[str]) -> dict[str, CatalogItem]:
        found: dict[str, CatalogItem] = {}
        with self._reading() as db:
            for chunk in _chunks(list(ids)):
                rows = db.execute(
                    f"SELECT id, name, placeholder FROM catalog_items WHERE tenant = {_TENANT} AND kind = ? "
                    f"AND id IN ({_marks(chunk)})",
                    (tenant, kind, *chunk),
                )
                found.update((i, CatalogItem(id=i, name=name, placeholder=bool(p))) for i, name, p in rows)
        return found

    def put_catalog_items(self, tenant: str, kind: str, items: Iterable[CatalogItem]) -> None:
        with self._writing() as db:
            number = _tenant_number(db, tenant)
            db.executemany(
                "INSERT INTO catalog_items (tenant, kind, id, name, placeholder) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant, kind, id) DO UPDATE SET name = excluded.name, placeholder = excluded.placeholder",
                ((number, kind, item.id, item.name, int(item.placeholder)) for item in items),
            )

    def catalog(self, tenant: str) -> dict[str, list[CatalogItem]]:
        items: dict[str, list[CatalogItem]] = {kind: [] for kind in CATALOG_KINDS}
        rows = self._db().execute(
            f"SELECT kind, id, name, placeholder FROM catalog_items WHERE tenant = {_TENANT} ORDER BY rowid", (tenant,)
        )
        for kind, item_id, name, placeholder in rows:
            items.setdefault(kind, []).append(CatalogItem(id=item_id, name=name, placeholder=bool(placeholder)))
        return items

    def replace_catalog(self, tenant: str, items: dict[str, list[CatalogItem]]) -> None:
        with self._writing() as db:
            number = _tenant_number(db, tenant)
            db.execute("DELETE FROM catalog_items WHERE tenant = ?", (number,))
            db.executemany(
                "INSERT INTO catalog_items (tenant, kind, id, name, placeholder) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant, kind, id) DO UPDATE SET name = excluded.name, placeholder = excluded.placeholder",
                ((number, kind, i.id, i.name, int(i.placeholder)) for kind, entries in items.items() for i in entries),
            )

    # Redemption code groups ------------------------------------------------------------
    def create_group(self, tenant: str, group: RedemptionGroup, codes: list[str]) -> None:
        with self._writing() as db:
            number = _tenant_number(db, tenant)
            seq = db.execute(
                "INSERT INTO redemption_groups (tenant, id, label, label_folded, code_length, total_codes, redeemed_codes, "
                "created_at, expiration_date, access_days, access_expiration_date, catalog_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    number,
                    group.id,
                    group.label,
                    group.label.casefold(),
                    group.code_length,
                    group.total_codes,
                    group.redeemed_codes,
                    _text(group.created_at),
                    group.expiration_date,
                    group.access_days,
                    group.access_expiration_date,
                    _catalog_json(group),
                ),
            ).lastrowid
            rows = ((number, code, seq, n) for n, code in enumerate(codes))
            refused = _insert_codes(db, "INSERT INTO redemption_codes (tenant, code, group_seq, position) VALUES (?, ?, ?, ?)", rows)
            if refused:
                raise _codes_taken(_taken(db, "redemption_codes", tenant, codes) or _repeated(codes), refused)
            db.executemany(
                "INSERT INTO code_lengths (tenant, length, codes) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant, length) DO UPDATE SET codes = code_lengths.codes + excluded.codes",
                ((number, length, n) for length, n in Counter(map(len, codes)).items()),
            )
            if group.uploaded or group.gift:
                sqlite_ti.write_flags(db, number, seq, uploaded=group.uploaded, gift=group.gift)

    def get_group(self, tenant: str, group_id: str) -> RedemptionGroup | None:
        # With its seq, uploaded and gift (sqlite_ti).
        return sqlite_ti.get_group(self._db(), tenant, group_id)

    def list_groups(
        self, tenant: str, *, query: str | None, sort: str | None, descending: bool, offset: int, limit: int
    ) -> Page:
        where, params = f"tenant = {_TENANT}", [tenant]
        if query:
            # Folded in Python, so case is ignored beyond ASCII, as the memory backend does.
            where += " AND instr(label_folded, ?) > 0"
            params.append(query.casefold())
        direction = "DESC" if descending else "ASC"
        if sort:
            # Ties keep creation order either way, as a stable sort does.
            order = ", ".join(f"{column} {direction}" for column in _GROUP_ORDER[sort]) + ", seq ASC"
        else:
            order = f"seq {direction}"
        with self._reading() as db:
            total = db.execute(f"SELECT count(*) FROM redemption_groups WHERE {where}", params).fetchone()[0]
            rows = db.execute(
                f"SELECT {_GROUP_COLUMNS} FROM redemption_groups WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return Page(items=[_group(row) for row in rows], total=total)

    def codes_taken(self, tenant: str, codes: Iterable[str]) -> set[str]:
        with self._reading() as db:
            return _taken(db, "redemption_codes", tenant, codes)

    def code_count(self, tenant: str, length: int) -> int:
        row = self._db().execute(
            f"SELECT codes FROM code_lengths WHERE tenant = {_TENANT} AND length = ?", (tenant, length)
        ).fetchone()
        return row[0] if row else 0

    def group_codes(self, tenant: str, group_id: str) -> list[str]:
        rows = self._db().execute(
            "SELECT c.code FROM redemption_groups g JOIN redemption_codes c ON c.tenant = g.tenant AND c.group_seq = g.seq "
            f"WHERE g.tenant = {_TENANT} AND g.id = ? ORDER BY c.position",
            (tenant, group_id),
        )
        return [code for (code,) in rows]

    # Redemptions -----------------------------------------------------------------------
    def find_code(self, tenant: str, code: str) -> tuple[str, bool] | None:
        row = self._db().execute(
            "SELECT g.id, c.redeemed FROM redemption_codes c "
            "JOIN redemption_groups g ON g.tenant = c.tenant AND g.seq = c.group_seq "
            f"WHERE c.tenant = {_TENANT} AND c.code = ?",
            (tenant, code),
        ).fetchone()
        return (row[0], bool(row[1])) if row else None

    def redeem_code(self, tenant: str, event: RedemptionEvent) -> RedemptionGroup:
        with self._writing() as db:
            number = _tenant_number(db, tenant)
            marked = db.execute(
                "UPDATE redemption_codes SET redeemed = 1 WHERE tenant = ? AND code = ? AND redeemed = 0",
                (number, event.code),
            ).rowcount
            if not marked:
                raise AlreadyUsed()
            db.execute(
                "UPDATE redemption_groups SET redeemed_codes = redeemed_codes + 1 WHERE tenant = ? AND id = ?",
                (number, event.group_id),
            )
            db.execute(
                "INSERT INTO redemption_events (tenant, id, code, group_id, user_id, occurred_at) VALUES (?, ?, ?, ?, ?, ?)",
                (number, event.id, event.code, event.group_id, event.user_id, _text(event.occurred_at)),
            )
            row = db.execute(
                f"SELECT {_GROUP_COLUMNS} FROM redemption_groups WHERE tenant = ? AND id = ?", (number, event.group_id)
            ).fetchone()
        return _group(row)

    def redeemed_codes(self, tenant: str, group_id: str) -> set[str]:
        rows = self._db().execute(
            "SELECT c.code FROM redemption_groups g JOIN redemption_codes c ON c.tenant = g.tenant AND c.group_seq = g.seq "
            f"WHERE g.tenant = {_TENANT} AND g.id = ? AND c.redeemed = 1",
            (tenant, group_id),
        )
        return {code for (code,) in rows}

    def list_redemption_events(
        self,
        tenant: str,
        *,
        offset: int,
        limit: int,
        start: datetime | None = None,
        end: datetime | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> Page:
        where, params = f"tenant = {_TENANT}", [tenant]
        # Instants are stored as UTC ISO 8601 text of one width, so text order is time order.
        for clause, value in (
            ("occurred_at >= ?", start and _text(start)),
            ("occurred_at < ?", end and _text(end)),
            ("user_id = ?", user_id),
            ("group_id = ?", group_id),
        ):
            if value is not None:
                where += f" AND {clause}"
                params.append(value)
        with self._reading() as db:
            total = db.execute(f"SELECT count(*) FROM redemption_events WHERE {where}", params).fetchone()[0]
            rows = db.execute(
                f"SELECT id, code, group_id, user_id, occurred_at FROM redemption_events WHERE {where} "
                "ORDER BY seq LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        events = [
            RedemptionEvent(id=i, code=c, group_id=g, user_id=u, occurred_at=_moment(at)) for i, c, g, u, at in rows
        ]
        return Page(items=events, total=total)

    # Keyset pages, uploaded codes, gifts (issue 14; the SQL is in sqlite_ti) ----------------
    def group_page(
        self,
        tenant: str,
        *,
        query: str | None,
        sort: str | None,
        descending: bool,
        after: GroupPosition | None,
        limit: int,
    ) -> Page:
        with self._reading() as db:
            items, total = sqlite_ti.group_page(
                db, tenant, query=query, sort=sort, descending=descending, after=after, limit=limit
            )
        return Page(items=items, total=total)

    def event_page(
        self,
        tenant: str,
        *,
        after: tuple[datetime, int] | None,
        limit: int,
        start: datetime | None = None,
        end: datetime | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> Page:
        with self._reading() as db:
            items, total = sqlite_ti.event_page(
                db,
                tenant,
                after=None if after is None else (_text(after[0]), after[1]),
                limit=limit,
                start=start and _text(start),
                end=end and _text(end),
                user_id=user_id,
                group_id=group_id,
            )
        return Page(items=items, total=total)

    def add_group_codes(self, tenant: str, group_id: str, codes: list[str], *, uploaded: bool) -> RedemptionGroup | None:
        with self._writing() as db:
            return sqlite_ti.add_group_codes(db, tenant, group_id, codes, uploaded=uploaded)

    def set_group_gift(self, tenant: str, group_id: str, gift: bool) -> RedemptionGroup | None:
        with self._writing() as db:
            return sqlite_ti.set_group_gift(db, tenant, group_id, gift)

    def delete_group(self, tenant: str, group_id: str) -> bool:
        with self._writing() as db:
            return sqlite_ti.delete_group(db, tenant, group_id)

    # Moltin tokens ---------------------------------------------------------------------
    def save_token(self, token: Token) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT INTO tokens (token, tenant, grant_type, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (token) DO UPDATE SET tenant = excluded.tenant, grant_type = excluded.grant_type, "
                "expires_at = excluded.expires_at",
                (token.token, _tenant_number(db, token.tenant), token.grant, _text(token.expires_at)),
            )
            self._saved_tokens += 1
            if self._saved_tokens % 1024 == 0:
                # Lapsed tokens are useless; dropping them now and then keeps the file flat.
                db.execute("DELETE FROM tokens WHERE expires_at <= ?", (_text(token.expires_at - LIFETIME),))

    def find_token(self, token: str) -> Token | None:
        row = self._db().execute(
            "SELECT t.name, k.grant_type, k.expires_at FROM tokens k JOIN tenants t ON t.id = k.tenant WHERE k.token = ?",
            (token,),
        ).fetchone()
        return Token(token=token, tenant=row[0], grant=row[1], expires_at=_moment(row[2])) if row else None

    # Moltin promotions -----------------------------------------------------------------
    def add_promotion(self, tenant: str, promotion: Promotion, limit: int) -> None:
        with self._writing() as db:
            number = _tenant_number(db, tenant)
            if db.execute("SELECT count(*) FROM promotions WHERE tenant = ?", (number,)).fetchone()[0] >= limit:
                raise QuotaExceeded()
            db.execute(
                f"INSERT INTO promotions (tenant, {_PROMOTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, *_promotion_row(promotion)),
            )

    def get_promotion(self, tenant: str, promotion_id: str) -> Promotion | None:
        row = self._db().execute(
            f"SELECT {_PROMOTION_COLUMNS} FROM promotions WHERE tenant = {_TENANT} AND id = ?", (tenant, promotion_id)
        ).fetchone()
        return _promotion(row) if row else None

    def list_promotions(self, tenant: str, *, offset: int, limit: int, code: str | None = None) -> Page:
        where, params = f"tenant = {_TENANT}", [tenant]
        if code is not None:
            where += f" AND id IN (SELECT promotion_id FROM promotion_codes WHERE tenant = {_TENANT} AND code = ?)"
            params += [tenant, code]
        with self._reading() as db:
            total = db.execute(f"SELECT count(*) FROM promotions WHERE {where}", params).fetchone()[0]
            rows = db.execute(
                f"SELECT {_PROMOTION_COLUMNS} FROM promotions WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return Page(items=[_promotion(row) for row in rows], total=total)

    def replace_promotion(self, tenant: str, promotion: Promotion, *, drop_codes: bool) -> None:
        with self._writing() as db:
            _update_promotion(db, tenant, promotion)
            if drop_codes:
                _delete_codes_of(db, tenant, promotion.id)

    def delete_promotion(self, tenant: str, promotion_id: str) -> bool:
        with self._writing() as db:
            _delete_codes_of(db, tenant, promotion_id)
            deleted = db.execute(f"DELETE FROM promotions WHERE tenant = {_TENANT} AND id = ?", (tenant, promotion_id))
            return deleted.rowcount > 0

    # Moltin promotion codes ------------------------------------------------------------
    def add_promotion_codes(self, tenant: str, promotion: Promotion, codes: list[PromotionCode], limit: int) -> None:
        with self._writing() as db:
            _update_promotion(db, tenant, promotion)
            number = _tenant_number(db, tenant)
            rows = ((number, promotion.id, c.code, c.uses, c.user, c.consume_unit, c.used) for c in codes)
            sql = (
                "INSERT INTO promotion_codes (tenant, promotion_id, code, uses, code_user, consume_unit, used) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            refused = _insert_codes(db, sql, rows)
            if refused:
                strings = [c.code for c in codes]
                raise _codes_taken(_taken(db, "promotion_codes", tenant, strings) | _repeated(strings), refused)
            if _promotion_code_count(db, tenant, promotion.id) > limit:
                raise QuotaExceeded()

    def list_promotion_codes(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
        with self._reading() as db:
            total = _promotion_code_count(db, tenant, promotion_id)
            rows = db.execute(
                f"SELECT {_CODE_COLUMNS} FROM promotion_codes "
                f"WHERE tenant = {_TENANT} AND promotion_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                (tenant, promotion_id, limit, offset),
            ).fetchall()
        return Page(items=[_code(row) for row in rows], total=total)

    def find_promotion_code(self, tenant: str, code: str) -> tuple[Promotion, PromotionCode] | None:
        columns = ", ".join(f"p.{c.strip()}" for c in _PROMOTION_COLUMNS.split(","))
        codes = ", ".join(f"c.{c.strip()}" for c in _CODE_COLUMNS.split(","))
        row = self._db().execute(
            f"SELECT {columns}, {codes} FROM promotion_codes c "
            "JOIN promotions p ON p.tenant = c.tenant AND p.id = c.promotion_id "
            f"WHERE c.tenant = {_TENANT} AND c.code = ?",
            (tenant, code),
        ).fetchone()
        return (_promotion(row[:12]), _code(row[12:])) if row else None

    def use_promotion_code(self, tenant: str, promotion_id: str, code: str) -> PromotionCode:
        with self._writing() as db:
            counted = db.execute(
                f"UPDATE promotion_codes SET used = used + 1 WHERE tenant = {_TENANT} AND promotion_id = ? AND code = ? "
                "AND (uses IS NULL OR used < uses)",
                (tenant, promotion_id, code),
            ).rowcount
            if not counted:
                raise AlreadyUsed()
            row = db.execute(
                f"SELECT {_CODE_COLUMNS} FROM promotion_codes WHERE tenant = {_TENANT} AND code = ?", (tenant, code)
            ).fetchone()
        return _code(row)

    def promotion_code_count(self, tenant: str, promotion_id: str) -> int:
        return _promotion_code_count(self._db(), tenant, promotion_id)

    def delete_promotion_codes(self, tenant: str, promotion_id: str, codes: Iterable[str]) -> int:
        with self._writing() as db:
            return db.executemany(
                f"DELETE FROM promotion_codes WHERE tenant = {_TENANT} AND promotion_id = ? AND code = ?",
                ((tenant, promotion_id, code) for code in codes),
            ).rowcount

    # Whole store ------------------------------------------------------------------------
    def ping(self) -> None:
        self._db().execute("SELECT count(*) FROM tenants").fetchone()

    def reset(self, tenant: str | None = None) -> None:
        # The `tenants` rows stay: live tokens still name their tenant by its number.
        with self._writing() as db:
            for table in _TABLES:
                if tenant is None:
                    db.execute(f"DELETE FROM {table}")
                else:
                    db.execute(f"DELETE FROM {table} WHERE tenant = {_TENANT}", (tenant,))


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


for _name, _method in list(vars(SqliteStorage).items()):
    if not _name.startswith("_") and _name != "close" and callable(_method):
        setattr(SqliteStorage, _name, _translated(_method))


# Statements used by several methods, inside their transaction ---------------------------


def _tenant_number(db: sqlite3.Connection, tenant: str) -> int:
    """The tenant's number, given it on its first write."""
    db.execute("INSERT INTO tenants (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (tenant,))
    return db.execute("SELECT id FROM tenants WHERE name = ?", (tenant,)).fetchone()[0]


def _insert_codes(db: sqlite3.Connection, sql: str, rows: Iterable[tuple]) -> sqlite3.IntegrityError | None:
    """Insert code rows; if a key refuses one, none of them is written and the refusal returned.

    The savepoint undoes the rows inserted before the refusal, so the caller can then ask which
    codes were taken without seeing its own.
    """
    db.execute("SAVEPOINT codes")
    try:
        db.executemany(sql, rows)
    except sqlite3.IntegrityError as refused:
        db.execute("ROLLBACK TO codes")
        return refused
    finally:
        db.execute("RELEASE codes")
    return None


def _codes_taken(clash: set[str], refused: sqlite3.IntegrityError) -> Exception:
    """`CodesTaken` naming the clash; if no code clashes, the refusal was about something else
    and is passed on as it is, rather than reported as taken codes."""
    return CodesTaken(clash) if clash else refused


def _taken(db: sqlite3.Connection, table: str, tenant: str, codes: Iterable[str]) -> set[str]:
    taken: set[str] = set()
    for chunk in _chunks(list(codes)):
        rows = db.execute(f"SELECT code FROM {table} WHERE tenant = {_TENANT} AND code IN ({_marks(chunk)})", (tenant, *chunk))
        taken.update(code for (code,) in rows)
    return taken


def _update_promotion(db: sqlite3.Connection, tenant: str, promotion: Promotion) -> None:
    _, *values = _promotion_row(promotion)
    written = db.execute(
        f"UPDATE promotions SET {_PROMOTION_ASSIGNMENTS} WHERE tenant = {_TENANT} AND id = ?", (*values, tenant, promotion.id)
    ).rowcount
    if not written:
        # The domain looked the promotion up first; it was deleted meanwhile.
        raise KeyError(promotion.id)


def _delete_codes_of(db: sqlite3.Connection, tenant: str, promotion_id: str) -> None:
    db.execute(f"DELETE FROM promotion_codes WHERE tenant = {_TENANT} AND promotion_id = ?", (tenant, promotion_id))


def _promotion_code_count(db: sqlite3.Connection, tenant: str, promotion_id: str) -> int:
    return db.execute(
        f"SELECT count(*) FROM promotion_codes WHERE tenant = {_TENANT} AND promotion_id = ?", (tenant, promotion_id)
    ).fetchone()[0]


# Values in and out of columns -----------------------------------------------------------


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(chunk: Sequence[str]) -> str:
    return ", ".join("?" * len(chunk))


def _repeated(codes: list[str]) -> set[str]:
    return {code for code, n in Counter(codes).items() if n > 1}


def _text(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _item_json(item: CatalogItem) -> dict:
    return {"id": item.id, "name": item.name, "placeholder": item.placeholder}


def _item(data: dict) -> CatalogItem:
    return CatalogItem(id=data["id"], name=data["name"], placeholder=data["placeholder"])


def _catalog_json(group: RedemptionGroup) -> str:
    return json.dumps(
        {
            "client": _item_json(group.client) if group.client else None,
            "courses": [_item_json(i) for i in group.courses],
            "learningPaths": [_item_json(i) for i in group.learning_paths],
            "bundles": [_item_json(i) for i in group.bundles],
            "licenses": [_item_json(i) for i in group.licenses],
        }
    )


def _group(row: tuple) -> RedemptionGroup:
    group_id, label, length, total, redeemed, created, expires, days, access_expires, catalog_json = row
    catalog = json.loads(catalog_json)
    return RedemptionGroup(
        id=group_id,
        label=label,
        code_length=length,
        total_codes=total,
        redeemed_codes=redeemed,
        created_at=_moment(created),
        expiration_date=expires,
        access_days=days,
        access_expiration_date=access_expires,
        client=_item(catalog["client"]) if catalog["client"] else None,
        courses=tuple(map(_item, catalog["courses"])),
        learning_paths=tuple(map(_item, catalog["learningPaths"])),
        bundles=tuple(map(_item, catalog["bundles"])),
        licenses=tuple(map(_item, catalog["licenses"])),
    )


def _promotion_row(p: Promotion) -> tuple:
    """The values of `_PROMOTION_COLUMNS`, in that order."""
    return (
        p.id,
        p.name,
        p.description,
        int(p.enabled),
        p.promotion_type,
        json.dumps(p.schema),
        _text(p.start),
        _text(p.end),
        _text(p.created_at),
        _text(p.updated_at),
        None if p.automatic is None else int(p.automatic),
        json.dumps(p.extras),
    )


def _promotion(row: tuple) -> Promotion:
    pid, name, description, enabled, kind, schema, start, end, created, updated, automatic, extras = row
    return Promotion(
        id=pid,
        name=name,
        description=description,
        enabled=bool(enabled),
        promotion_type=kind,
        schema=json.loads(schema),
        start=_moment(start),
        end=_moment(end),
        created_at=_moment(created),
        updated_at=_moment(updated),
        automatic=None if automatic is None else bool(automatic),
        extras=json.loads(extras),
    )


def _code(row: tuple) -> PromotionCode:
    code, uses, user, unit, used = row
    return PromotionCode(code=code, uses=uses, user=user, consume_unit=unit, used=used)
