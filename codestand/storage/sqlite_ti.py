"""The SQLite statements added for Thought Industries' keyset pages, uploaded codes and gifts.

Kept apart from `sqlite.py` so that its statements (one SQL layer for SQLite and PostgreSQL is
coming) and these can be merged as units. Everything here is plain SQL with `?` parameters; the
one SQLite-ism is `substr(CAST(text AS BLOB), 1, 96)`, the first 96 bytes of a label's UTF-8, by
which labels sort (PostgreSQL: `substring(convert_to(label_folded, 'UTF8') from 1 for 96)`), so
that a cursor's label need not be valid UTF-8.

Tables: `redemption_group_flags` (schema version 2), one row for a group that is uploaded or a
gift; a group without a row is generated and not a gift.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import datetime

from codestand.core.models import RedemptionEvent, RedemptionGroup
from codestand.storage.base import GroupPosition

FLAGS_TABLE = """CREATE TABLE redemption_group_flags (
        tenant INTEGER NOT NULL,
        group_seq INTEGER NOT NULL,
        uploaded INTEGER NOT NULL DEFAULT 0,
        gift INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, group_seq)
    ) WITHOUT ROWID"""

SCHEMA = (FLAGS_TABLE,)
# Schema version 1 -> 2.
MIGRATION_FROM_1 = (FLAGS_TABLE,)

_TENANT = "(SELECT id FROM tenants WHERE name = ?)"
_COLUMNS = (
    "g.id, g.label, g.code_length, g.total_codes, g.redeemed_codes, g.created_at, "
    "g.expiration_date, g.access_days, g.access_expiration_date, g.catalog_json, "
    "g.seq, coalesce(f.uploaded, 0), coalesce(f.gift, 0)"
)
_FROM = (
    "redemption_groups g LEFT JOIN redemption_group_flags f ON f.tenant = g.tenant AND f.group_seq = g.seq"
)
# Each sort's key, as an expression (never input: `sort` is checked against these keys).
_KEY = {
    None: "g.seq",
    "label": "substr(CAST(g.label_folded AS BLOB), 1, 96)",  # thoughtindustries.cursors.LABEL_KEY_BYTES
    "totalCodesCount": "g.total_codes",
    "redeemedCodesCount": "g.redeemed_codes",
}


def _position_key(sort: str | None, after: GroupPosition) -> object:
    return {None: after.seq, "label": after.label, "totalCodesCount": after.total, "redeemedCodesCount": after.redeemed}[sort]


def _flagged(row: tuple) -> RedemptionGroup:
    from codestand.storage.sqlite import _group  # the one place rows become groups

    return replace(_group(row[:10]), seq=row[10], uploaded=bool(row[11]), gift=bool(row[12]))


def get_group(db: sqlite3.Connection, tenant: str, group_id: str) -> RedemptionGroup | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE g.tenant = {_TENANT} AND g.id = ?", (tenant, group_id)).fetchone()
    return _flagged(row) if row else None


def group_page(
    db: sqlite3.Connection,
    tenant: str,
    *,
    query: str | None,
    sort: str | None,
    descending: bool,
    after: GroupPosition | None,
    limit: int,
) -> tuple[list[RedemptionGroup], int]:
    where, params = f"g.tenant = {_TENANT}", [tenant]
    if query:
        where += " AND instr(g.label_folded, ?) > 0"
        params.append(query.casefold())
    total = db.execute(f"SELECT count(*) FROM redemption_groups g WHERE {where}", params).fetchone()[0]
    key = _KEY[sort]
    direction = "DESC" if descending else "ASC"
    order = f"g.seq {direction}" if sort is None else f"{key} {direction}, g.seq ASC"
    if after is not None:
        mark = _position_key(sort, after)
        if sort is None:
            where += f" AND g.seq {'<' if descending else '>'} ?"
            params.append(mark)
        else:
            where += f" AND ({key} {'<' if descending else '>'} ? OR ({key} = ? AND g.seq > ?))"
            params += [mark, mark, after.seq]
    rows = db.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY {order} LIMIT ?", (*params, limit)).fetchall()
    return [_flagged(row) for row in rows], total


def event_page(
    db: sqlite3.Connection,
    tenant: str,
    *,
    after: tuple[str, int] | None,
    limit: int,
    start: str | None,
    end: str | None,
    user_id: str | None,
    group_id: str | None,
) -> tuple[list[RedemptionEvent], int]:
    """Instants come as the stored text (UTC ISO 8601 of one width, so text order is time order)."""
    from codestand.storage.sqlite import _moment

    where, params = f"tenant = {_TENANT}", [tenant]
    for clause, value in (
        ("occurred_at >= ?", start),
        ("occurred_at <= ?", end),
        ("user_id = ?", user_id),
        ("group_id = ?", group_id),
    ):
        if value is not None:
            where += f" AND {clause}"
            params.append(value)
    total = db.execute(f"SELECT count(*) FROM redemption_events WHERE {where}", params).fetchone()[0]
    if after is not None:
        where += " AND (occurred_at > ? OR (occurred_at = ? AND seq > ?))"
        params += [after[0], after[0], after[1]]
    rows = db.execute(
        f"SELECT id, code, group_id, user_id, occurred_at, seq FROM redemption_events WHERE {where} "
        "ORDER BY occurred_at, seq LIMIT ?",
        (*params, limit),
    ).fetchall()
    events = [
        RedemptionEvent(id=i, code=c, group_id=g, user_id=u, occurred_at=_moment(at), seq=s) for i, c, g, u, at, s in rows
    ]
    return events, total


def write_flags(db: sqlite3.Connection, number: int, seq: int, *, uploaded: bool, gift: bool) -> None:
    db.execute(
        "INSERT INTO redemption_group_flags (tenant, group_seq, uploaded, gift) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tenant, group_seq) DO UPDATE SET uploaded = excluded.uploaded, gift = excluded.gift",
        (number, seq, int(uploaded), int(gift)),
    )


def add_group_codes(db: sqlite3.Connection, tenant: str, group_id: str, codes: list[str], *, uploaded: bool) -> RedemptionGroup | None:
    """In the caller's write transaction."""
    from codestand.storage.sqlite import _codes_taken, _insert_codes, _repeated, _taken, _tenant_number

    group = get_group(db, tenant, group_id)
    if group is None:
        return None
    number = _tenant_number(db, tenant)
    start = db.execute(
        "SELECT coalesce(max(position) + 1, 0) FROM redemption_codes WHERE tenant = ? AND group_seq = ?", (number, group.seq)
    ).fetchone()[0]
    rows = ((number, code, group.seq, start + n) for n, code in enumerate(codes))
    refused = _insert_codes(db, "INSERT INTO redemption_codes (tenant, code, group_seq, position) VALUES (?, ?, ?, ?)", rows)
    if refused:
        raise _codes_taken(_taken(db, "redemption_codes", tenant, codes) or _repeated(codes), refused)
    db.executemany(
        "INSERT INTO code_lengths (tenant, length, codes) VALUES (?, ?, ?) "
        "ON CONFLICT (tenant, length) DO UPDATE SET codes = code_lengths.codes + excluded.codes",
        ((number, length, n) for length, n in Counter(map(len, codes)).items()),
    )
    db.execute("UPDATE redemption_groups SET total_codes = total_codes + ? WHERE seq = ?", (len(codes), group.seq))
    write_flags(db, number, group.seq, uploaded=group.uploaded or uploaded, gift=group.gift)
    return get_group(db, tenant, group_id)


def set_group_gift(db: sqlite3.Connection, tenant: str, group_id: str, gift: bool) -> RedemptionGroup | None:
    from codestand.storage.sqlite import _tenant_number

    group = get_group(db, tenant, group_id)
    if group is None:
        return None
    write_flags(db, _tenant_number(db, tenant), group.seq, uploaded=group.uploaded, gift=gift)
    return get_group(db, tenant, group_id)


def delete_group(db: sqlite3.Connection, tenant: str, group_id: str) -> bool:
    group = get_group(db, tenant, group_id)
    if group is None:
        return False
    number = db.execute("SELECT id FROM tenants WHERE name = ?", (tenant,)).fetchone()[0]
    lengths = db.execute(
        "SELECT length(code), count(*) FROM redemption_codes WHERE tenant = ? AND group_seq = ? GROUP BY length(code)",
        (number, group.seq),
    ).fetchall()
    db.executemany(
        "UPDATE code_lengths SET codes = codes - ? WHERE tenant = ? AND length = ?", ((n, number, length) for length, n in lengths)
    )
    db.execute("DELETE FROM redemption_codes WHERE tenant = ? AND group_seq = ?", (number, group.seq))
    db.execute("DELETE FROM redemption_group_flags WHERE tenant = ? AND group_seq = ?", (number, group.seq))
    db.execute("DELETE FROM redemption_groups WHERE seq = ?", (group.seq,))
    return True


def stored_instant(moment: datetime | None) -> str | None:
    from codestand.storage.sqlite import _text

    return None if moment is None else _text(moment)
