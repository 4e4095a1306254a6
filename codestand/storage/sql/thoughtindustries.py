"""Thought Industries' tables: each tenant's catalog, redemption code groups, their codes, and
learners' redemptions. A mixin of `SqlStorage`; its SQL is written once for both dialects."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from codestand.core.models import CatalogItem, Page, RedemptionEvent, RedemptionGroup
from codestand.storage.base import CATALOG_KINDS, AlreadyUsed
from codestand.storage.sql.common import (
    TENANT,
    chunks,
    codes_taken_error,
    insert_codes,
    marks,
    moment,
    repeated,
    taken,
    tenant_number,
    text,
)

TABLES = (
    # `seq` is the order items were first added in, the order the catalog lists them in.
    """CREATE TABLE catalog_items (
        seq {seq},
        tenant INTEGER NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        placeholder INTEGER NOT NULL,
        UNIQUE (tenant, kind, id)
    )""",
    # `seq` is creation order, the order the vendor lists groups in.
    """CREATE TABLE redemption_groups (
        seq {seq},
        tenant INTEGER NOT NULL,
        id TEXT NOT NULL,
        label TEXT{binary} NOT NULL,
        label_folded TEXT{binary} NOT NULL,
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
    ){without_rowid}""",
    # Learners' redemptions, in the order they happened (`seq`): the vendor's event feed.
    """CREATE TABLE redemption_events (
        seq {seq},
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
)

# Schema version 1 kept the catalog in SQLite's row order (`rowid`), which PostgreSQL has not:
# version 2 numbers the items instead, in the order they had.
TO_VERSION_2 = (
    TABLES[0].replace("catalog_items (", "catalog_items_v2 (", 1),
    "INSERT INTO catalog_items_v2 (tenant, kind, id, name, placeholder) "
    "SELECT tenant, kind, id, name, placeholder FROM catalog_items ORDER BY rowid",
    "DROP TABLE catalog_items",
    "ALTER TABLE catalog_items_v2 RENAME TO catalog_items",
)

# A tenant's state, children before parents.
STATE = ("redemption_events", "redemption_codes", "code_lengths", "redemption_groups", "catalog_items")

_GROUP_COLUMNS = (
    "id, label, code_length, total_codes, redeemed_codes, created_at, "
    "expiration_date, access_days, access_expiration_date, catalog_json"
)
# A group's uploaded and gift flags (ti_pages' table; no row: neither).
_FLAGS = ", ".join(
    f"coalesce((SELECT f.{flag} FROM redemption_group_flags f WHERE f.tenant = redemption_groups.tenant"
    f" AND f.group_seq = redemption_groups.seq), 0)"
    for flag in ("uploaded", "gift")
)
# Column names only, never input: `list_groups` checks `sort` against these keys.
_GROUP_ORDER = {
    "label": ("label_folded", "label"),
    "totalCodesCount": ("total_codes",),
    "redeemedCodesCount": ("redeemed_codes",),
}
_UPSERT_ITEM = (
    "INSERT INTO catalog_items (tenant, kind, id, name, placeholder) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant, kind, id) DO UPDATE SET name = excluded.name, placeholder = excluded.placeholder"
)
_CODE_COLUMNS = ("tenant", "code", "group_seq", "position")


class ThoughtIndustriesTables:
    # Catalog ---------------------------------------------------------------------------
    def catalog_items(self, tenant: str, kind: str, ids: Iterable[str]) -> dict[str, CatalogItem]:
        found: dict[str, CatalogItem] = {}
        with self._read() as db:
            for chunk in chunks(list(ids)):
                rows = db.execute(
                    f"SELECT id, name, placeholder FROM catalog_items WHERE tenant = {TENANT} AND kind = ? "
                    f"AND id IN ({marks(chunk)})",
                    (tenant, kind, *chunk),
                )
                found.update((i, CatalogItem(id=i, name=name, placeholder=bool(p))) for i, name, p in rows)
        return found

    def put_catalog_items(self, tenant: str, kind: str, items: Iterable[CatalogItem]) -> None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            db.executemany(_UPSERT_ITEM, [(number, kind, item.id, item.name, int(item.placeholder)) for item in items])

    def catalog(self, tenant: str) -> dict[str, list[CatalogItem]]:
        items: dict[str, list[CatalogItem]] = {kind: [] for kind in CATALOG_KINDS}
        with self._read() as db:
            rows = db.execute(
                f"SELECT kind, id, name, placeholder FROM catalog_items WHERE tenant = {TENANT} ORDER BY seq", (tenant,)
            ).fetchall()
        for kind, item_id, name, placeholder in rows:
            items.setdefault(kind, []).append(CatalogItem(id=item_id, name=name, placeholder=bool(placeholder)))
        return items

    def replace_catalog(self, tenant: str, items: dict[str, list[CatalogItem]]) -> None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            db.execute("DELETE FROM catalog_items WHERE tenant = ?", (number,))
            rows = [(number, kind, i.id, i.name, int(i.placeholder)) for kind, entries in items.items() for i in entries]
            db.executemany(_UPSERT_ITEM, rows)

    # Redemption code groups ------------------------------------------------------------
    def create_group(self, tenant: str, group: RedemptionGroup, codes: list[str]) -> None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            seq = db.value(
                "INSERT INTO redemption_groups (tenant, id, label, label_folded, code_length, total_codes, redeemed_codes, "
                "created_at, expiration_date, access_days, access_expiration_date, catalog_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                (
                    number,
                    group.id,
                    group.label,
                    group.label.casefold(),
                    group.code_length,
                    group.total_codes,
                    group.redeemed_codes,
                    text(group.created_at),
                    group.expiration_date,
                    group.access_days,
                    group.access_expiration_date,
                    _catalog_json(group),
                ),
            )
            rows = ((number, code, seq, n) for n, code in enumerate(codes))
            refused = insert_codes(db, "redemption_codes", _CODE_COLUMNS, rows)
            if refused:
                raise codes_taken_error(taken(db, "redemption_codes", tenant, codes) or repeated(codes), refused)
            db.executemany(
                "INSERT INTO code_lengths (tenant, length, codes) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant, length) DO UPDATE SET codes = code_lengths.codes + excluded.codes",
                [(number, length, n) for length, n in Counter(map(len, codes)).items()],
            )
            if group.uploaded or group.gift:  # uploaded and gift groups: ti_pages
                from codestand.storage.sql.ti_pages import write_flags

                write_flags(db, number, seq, uploaded=group.uploaded, gift=group.gift)

    def get_group(self, tenant: str, group_id: str) -> RedemptionGroup | None:
        with self._read() as db:
            row = db.one(f"SELECT {_GROUP_COLUMNS} FROM redemption_groups WHERE tenant = {TENANT} AND id = ?", (tenant, group_id))
        return _group(row) if row else None

    def list_groups(
        self, tenant: str, *, query: str | None, sort: str | None, descending: bool, offset: int, limit: int
    ) -> Page:
        where, params = f"tenant = {TENANT}", [tenant]
        if query:
            # Folded in Python, so case is ignored beyond ASCII, as the memory backend does.
            where += " AND " + self.dialect.contains("label_folded")
            params.append(query.casefold())
        direction = "DESC" if descending else "ASC"
        if sort:
            # Ties keep creation order either way, as a stable sort does.
            order = ", ".join(f"{column} {direction}" for column in _GROUP_ORDER[sort]) + ", seq ASC"
        else:
            order = f"seq {direction}"
        with self._reading() as db:
            total = db.value(f"SELECT count(*) FROM redemption_groups WHERE {where}", params)
            rows = db.execute(
                f"SELECT {_GROUP_COLUMNS}, {_FLAGS} FROM redemption_groups WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        # With the admin's flags, as the memory store's groups carry them (a snapshot exports them).
        return Page(items=[replace(_group(row[:10]), uploaded=bool(row[10]), gift=bool(row[11])) for row in rows], total=total)

    def codes_taken(self, tenant: str, codes: Iterable[str]) -> set[str]:
        with self._read() as db:
            return taken(db, "redemption_codes", tenant, codes)

    def code_count(self, tenant: str, length: int) -> int:
        with self._read() as db:
            found = db.value(f"SELECT codes FROM code_lengths WHERE tenant = {TENANT} AND length = ?", (tenant, length))
        return found or 0

    def group_codes(self, tenant: str, group_id: str) -> list[str]:
        with self._read() as db:
            rows = db.execute(
                "SELECT c.code FROM redemption_groups g JOIN redemption_codes c ON c.tenant = g.tenant AND c.group_seq = g.seq "
                f"WHERE g.tenant = {TENANT} AND g.id = ? ORDER BY c.position",
                (tenant, group_id),
            ).fetchall()
        return [code for (code,) in rows]

    # Redemptions -----------------------------------------------------------------------
    def find_code(self, tenant: str, code: str) -> tuple[str, bool] | None:
        with self._read() as db:
            row = db.one(
                "SELECT g.id, c.redeemed FROM redemption_codes c "
                "JOIN redemption_groups g ON g.tenant = c.tenant AND g.seq = c.group_seq "
                f"WHERE c.tenant = {TENANT} AND c.code = ?",
                (tenant, code),
            )
        return (row[0], bool(row[1])) if row else None

    def redeem_code(self, tenant: str, event: RedemptionEvent) -> RedemptionGroup:
        with self._writing() as db:
            number = tenant_number(db, tenant)
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
                (number, event.id, event.code, event.group_id, event.user_id, text(event.occurred_at)),
            )
            row = db.one(f"SELECT {_GROUP_COLUMNS} FROM redemption_groups WHERE tenant = ? AND id = ?", (number, event.group_id))
        return _group(row)

    def redeemed_codes(self, tenant: str, group_id: str) -> set[str]:
        with self._read() as db:
            rows = db.execute(
                "SELECT c.code FROM redemption_groups g JOIN redemption_codes c ON c.tenant = g.tenant AND c.group_seq = g.seq "
                f"WHERE g.tenant = {TENANT} AND g.id = ? AND c.redeemed = 1",
                (tenant, group_id),
            ).fetchall()
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
        where, params = event_filter(tenant, start=start, end=end, user_id=user_id, group_id=group_id, end_inclusive=False)
        with self._reading() as db:
            total = db.value(f"SELECT count(*) FROM redemption_events WHERE {where}", params)
            rows = db.execute(
                f"SELECT id, code, group_id, user_id, occurred_at FROM redemption_events WHERE {where} "
                "ORDER BY seq LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        events = [RedemptionEvent(id=i, code=c, group_id=g, user_id=u, occurred_at=moment(at)) for i, c, g, u, at in rows]
        return Page(items=events, total=total)


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
        created_at=moment(created),
        expiration_date=expires,
        access_days=days,
        access_expiration_date=access_expires,
        client=_item(catalog["client"]) if catalog["client"] else None,
        courses=tuple(map(_item, catalog["courses"])),
        learning_paths=tuple(map(_item, catalog["learningPaths"])),
        bundles=tuple(map(_item, catalog["bundles"])),
        licenses=tuple(map(_item, catalog["licenses"])),
    )


def event_filter(
    tenant: str, *, start: datetime | None, end: datetime | None, user_id: str | None, group_id: str | None, end_inclusive: bool
) -> tuple[str, list]:
    """The WHERE clause and parameters that pick a tenant's redemption events.

    Instants are stored as UTC ISO 8601 text of one width, so text order is time order.
    """
    where, params = f"tenant = {TENANT}", [tenant]
    for clause, value in (
        ("occurred_at >= ?", start and text(start)),
        ("occurred_at <= ?" if end_inclusive else "occurred_at < ?", end and text(end)),
        ("user_id = ?", user_id),
        ("group_id = ?", group_id),
    ):
        if value is not None:
            where += f" AND {clause}"
            params.append(value)
    return where, params
