"""Thought Industries' keyset pages, uploaded and gift groups, added codes and deleting a group:
a mixin of `SqlStorage`, beside `thoughtindustries.py` (whose tables these read), written once
for both dialects.

Table: `redemption_group_flags` (schema version 3), one row for a group that is uploaded or a
gift; a group without a row is generated and not a gift.

Labels sort by the first 96 bytes of their case-folded UTF-8 (`thoughtindustries.cursors`), so
a cursor's label is bytes and need not be valid UTF-8: SQLite compares `substr(CAST(.. AS BLOB),
1, 96)`, PostgreSQL `substring(convert_to(.., 'UTF8') from 1 for 96)`, both byte by byte.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from codestand.core.models import Page, RedemptionEvent, RedemptionGroup
from codestand.storage.base import GroupPosition
from codestand.storage.sql.common import TENANT, Db, codes_taken_error, insert_codes, moment, repeated, taken, tenant_number, text
from codestand.storage.sql.thoughtindustries import _group, event_filter

TABLES = (
    """CREATE TABLE redemption_group_flags (
        tenant INTEGER NOT NULL,
        group_seq INTEGER NOT NULL,
        uploaded INTEGER NOT NULL DEFAULT 0,
        gift INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, group_seq)
    ){without_rowid}""",
)
TO_VERSION_4 = TABLES
STATE = ("redemption_group_flags",)

_COLUMNS = (
    "g.id, g.label, g.code_length, g.total_codes, g.redeemed_codes, g.created_at, "
    "g.expiration_date, g.access_days, g.access_expiration_date, g.catalog_json, "
    "g.seq, coalesce(f.uploaded, 0), coalesce(f.gift, 0)"
)
_FROM = "redemption_groups g LEFT JOIN redemption_group_flags f ON f.tenant = g.tenant AND f.group_seq = g.seq"
_LABEL_KEY = {
    "sqlite": "substr(CAST(g.label_folded AS BLOB), 1, 96)",
    "postgresql": "substring(convert_to(g.label_folded, 'UTF8') from 1 for 96)",
}
# Each sort's key (never input: `sort` is checked against these keys).
_KEY = {None: "g.seq", "totalCodesCount": "g.total_codes", "redeemedCodesCount": "g.redeemed_codes"}
_CODE_COLUMNS = ("tenant", "code", "group_seq", "position")


def _flagged(row: tuple) -> RedemptionGroup:
    return replace(_group(row[:10]), seq=row[10], uploaded=bool(row[11]), gift=bool(row[12]))


def _get(db: Db, tenant: str, group_id: str) -> RedemptionGroup | None:
    row = db.one(f"SELECT {_COLUMNS} FROM {_FROM} WHERE g.tenant = {TENANT} AND g.id = ?", (tenant, group_id))
    return _flagged(row) if row else None


def write_flags(db: Db, number: int, seq: int, *, uploaded: bool, gift: bool) -> None:
    db.execute(
        "INSERT INTO redemption_group_flags (tenant, group_seq, uploaded, gift) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tenant, group_seq) DO UPDATE SET uploaded = excluded.uploaded, gift = excluded.gift",
        (number, seq, int(uploaded), int(gift)),
    )


class ThoughtIndustriesPages:
    def get_group(self, tenant: str, group_id: str) -> RedemptionGroup | None:
        # With its seq, uploaded and gift.
        with self._read() as db:
            return _get(db, tenant, group_id)

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
        where, params = f"g.tenant = {TENANT}", [tenant]
        if query:
            where += " AND " + self.dialect.contains("g.label_folded")
            params.append(query.casefold())
        key = _LABEL_KEY[self.dialect.name] if sort == "label" else _KEY[sort]
        direction = "DESC" if descending else "ASC"
        order = f"g.seq {direction}" if sort is None else f"{key} {direction}, g.seq ASC"
        counted, position = list(params), ""
        if after is not None:
            mark = {None: after.seq, "label": after.label, "totalCodesCount": after.total, "redeemedCodesCount": after.redeemed}[sort]
            if sort is None:
                position = f" AND g.seq {'<' if descending else '>'} ?"
                params.append(mark)
            else:
                position = f" AND ({key} {'<' if descending else '>'} ? OR ({key} = ? AND g.seq > ?))"
                params += [mark, mark, after.seq]
        with self._reading() as db:
            # The total counts every match of `query`, wherever the position.
            total = db.value(f"SELECT count(*) FROM redemption_groups g WHERE {where}", counted)
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where}{position} ORDER BY {order} LIMIT ?", (*params, limit)
            ).fetchall()
        return Page(items=[_flagged(row) for row in rows], total=total)

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
        # The vendor's `endDate` is "on or before" (rest-events-redemption-code-redeem).
        where, params = event_filter(tenant, start=start, end=end, user_id=user_id, group_id=group_id, end_inclusive=True)
        counted, position = list(params), ""
        if after is not None:
            position = " AND (occurred_at > ? OR (occurred_at = ? AND seq > ?))"
            params += [text(after[0]), text(after[0]), after[1]]
        with self._reading() as db:
            total = db.value(f"SELECT count(*) FROM redemption_events WHERE {where}", counted)
            rows = db.execute(
                f"SELECT id, code, group_id, user_id, occurred_at, seq FROM redemption_events WHERE {where}{position} "
                "ORDER BY occurred_at, seq LIMIT ?",
                (*params, limit),
            ).fetchall()
        events = [
            RedemptionEvent(id=i, code=c, group_id=g, user_id=u, occurred_at=moment(at), seq=s) for i, c, g, u, at, s in rows
        ]
        return Page(items=events, total=total)

    def add_group_codes(self, tenant: str, group_id: str, codes: list[str], *, uploaded: bool) -> RedemptionGroup | None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            group = _get(db, tenant, group_id)
            if group is None:
                return None
            start = db.value(
                "SELECT coalesce(max(position) + 1, 0) FROM redemption_codes WHERE tenant = ? AND group_seq = ?", (number, group.seq)
            )
            refused = insert_codes(db, "redemption_codes", _CODE_COLUMNS, [(number, code, group.seq, start + n) for n, code in enumerate(codes)])
            if refused:
                raise codes_taken_error(taken(db, "redemption_codes", tenant, codes) or repeated(codes), refused)
            db.executemany(
                "INSERT INTO code_lengths (tenant, length, codes) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant, length) DO UPDATE SET codes = code_lengths.codes + excluded.codes",
                [(number, length, n) for length, n in Counter(map(len, codes)).items()],
            )
            db.execute("UPDATE redemption_groups SET total_codes = total_codes + ? WHERE seq = ?", (len(codes), group.seq))
            write_flags(db, number, group.seq, uploaded=group.uploaded or uploaded, gift=group.gift)
            return _get(db, tenant, group_id)

    def set_group_gift(self, tenant: str, group_id: str, gift: bool) -> RedemptionGroup | None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            group = _get(db, tenant, group_id)
            if group is None:
                return None
            write_flags(db, number, group.seq, uploaded=group.uploaded, gift=gift)
            return _get(db, tenant, group_id)

    def delete_group(self, tenant: str, group_id: str) -> bool:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            group = _get(db, tenant, group_id)
            if group is None:
                return False
            lengths = db.execute(
                "SELECT length(code), count(*) FROM redemption_codes WHERE tenant = ? AND group_seq = ? GROUP BY length(code)",
                (number, group.seq),
            ).fetchall()
            db.executemany(
                "UPDATE code_lengths SET codes = codes - ? WHERE tenant = ? AND length = ?", [(n, number, length) for length, n in lengths]
            )
            db.execute("DELETE FROM redemption_codes WHERE tenant = ? AND group_seq = ?", (number, group.seq))
            db.execute("DELETE FROM redemption_group_flags WHERE tenant = ? AND group_seq = ?", (number, group.seq))
            db.execute("DELETE FROM redemption_groups WHERE seq = ?", (group.seq,))
            return True

