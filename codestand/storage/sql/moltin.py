"""Moltin's tables: access tokens, promotions and promotion codes. A mixin of `SqlStorage`;
its SQL is written once for both dialects."""

from __future__ import annotations

import json
from collections.abc import Iterable

from codestand.core.models import Page, Promotion, PromotionCode, PromotionUsage, Token
from codestand.moltin.tokens import LIFETIME
from codestand.storage.base import AlreadyUsed, QuotaExceeded
from codestand.storage.sql import moltin_history
from codestand.storage.sql.common import TENANT, Db, codes_taken_error, insert_codes, moment, repeated, taken, tenant_number, text

TABLES = (
    """CREATE TABLE tokens (
        token TEXT PRIMARY KEY,
        tenant INTEGER NOT NULL,
        grant_type TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX tokens_by_tenant ON tokens (tenant)",
    """CREATE TABLE promotions (
        seq {seq},
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
        seq {seq},
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
)

# A tenant's state, children before parents (for the foreign key). Not `tokens`: they are
# credentials, and stay valid across a reset until they lapse, as API keys do.
STATE = ("promotion_codes", "promotions")

_PROMOTION_COLUMNS = (
    "id, name, description, enabled, promotion_type, schema_json, starts_at, ends_at, "
    "created_at, updated_at, automatic, extras_json, created_by, updated_by"
)
# created_by, updated_by, and the codes' created_at, created_by, users_json: version 3
# (moltin_history.TO_VERSION_3).
_CODE_COLUMNS = "code, uses, code_user, consume_unit, used, created_at, created_by, users_json"
_CODE_INSERT = ("tenant", "promotion_id", *(c.strip() for c in _CODE_COLUMNS.split(",")))
# Every column but the id, for writing an updated promotion.
_PROMOTION_ASSIGNMENTS = ", ".join(f"{column.strip()} = ?" for column in _PROMOTION_COLUMNS.split(",")[1:])
# Lapsed tokens are dropped once in this many saves.
_SWEEP_EVERY = 1024


class MoltinTables:
    _saved_tokens = 0

    # Tokens ----------------------------------------------------------------------------
    def save_token(self, token: Token) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT INTO tokens (token, tenant, grant_type, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (token) DO UPDATE SET tenant = excluded.tenant, grant_type = excluded.grant_type, "
                "expires_at = excluded.expires_at",
                (token.token, tenant_number(db, token.tenant), token.grant, text(token.expires_at)),
            )
            self._saved_tokens += 1
            if self._saved_tokens % _SWEEP_EVERY == 0:
                # Lapsed tokens are useless; dropping them now and then keeps the tables flat.
                db.execute("DELETE FROM tokens WHERE expires_at <= ?", (text(token.expires_at - LIFETIME),))

    def find_token(self, token: str) -> Token | None:
        with self._read() as db:
            row = db.one(
                "SELECT t.name, k.grant_type, k.expires_at FROM tokens k JOIN tenants t ON t.id = k.tenant WHERE k.token = ?",
                (token,),
            )
        return Token(token=token, tenant=row[0], grant=row[1], expires_at=moment(row[2])) if row else None

    # Promotions ------------------------------------------------------------------------
    def add_promotion(self, tenant: str, promotion: Promotion, limit: int) -> None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            if db.value("SELECT count(*) FROM promotions WHERE tenant = ?", (number,)) >= limit:
                raise QuotaExceeded()
            db.execute(
                f"INSERT INTO promotions (tenant, {_PROMOTION_COLUMNS}) VALUES (?, {', '.join('?' * 14)})",
                (number, *_promotion_row(promotion)),
            )

    def get_promotion(self, tenant: str, promotion_id: str) -> Promotion | None:
        with self._read() as db:
            row = db.one(f"SELECT {_PROMOTION_COLUMNS} FROM promotions WHERE tenant = {TENANT} AND id = ?", (tenant, promotion_id))
        return _promotion(row) if row else None

    def list_promotions(self, tenant: str, *, offset: int, limit: int, code: str | None = None) -> Page:
        where, params = f"tenant = {TENANT}", [tenant]
        if code is not None:
            where += f" AND id IN (SELECT promotion_id FROM promotion_codes WHERE tenant = {TENANT} AND code = ?)"
            params += [tenant, code]
        with self._reading() as db:
            total = db.value(f"SELECT count(*) FROM promotions WHERE {where}", params)
            rows = db.execute(
                f"SELECT {_PROMOTION_COLUMNS} FROM promotions WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return Page(items=[_promotion(row) for row in rows], total=total)

    def replace_promotion(self, tenant: str, promotion: Promotion, *, drop_codes: bool) -> None:
        with self._writing() as db:
            tenant_number(db, tenant)
            _update_promotion(db, tenant, promotion)
            if drop_codes:
                _delete_codes_of(db, tenant, promotion.id)

    def delete_promotion(self, tenant: str, promotion_id: str) -> bool:
        with self._writing() as db:
            tenant_number(db, tenant)
            _delete_codes_of(db, tenant, promotion_id)
            moltin_history.delete_of_promotion(db, tenant, promotion_id)
            deleted = db.execute(f"DELETE FROM promotions WHERE tenant = {TENANT} AND id = ?", (tenant, promotion_id))
            return deleted.rowcount > 0

    # Promotion codes -------------------------------------------------------------------
    def add_promotion_codes(self, tenant: str, promotion: Promotion, codes: list[PromotionCode], limit: int) -> None:
        with self._writing() as db:
            number = tenant_number(db, tenant)  # first: the tenant's writers take turns from here
            _update_promotion(db, tenant, promotion)
            rows = ((number, promotion.id, *_code_row(c)) for c in codes)
            refused = insert_codes(db, "promotion_codes", _CODE_INSERT, rows)
            if refused:
                strings = [c.code for c in codes]
                raise codes_taken_error(taken(db, "promotion_codes", tenant, strings) | repeated(strings), refused)
            if _promotion_code_count(db, tenant, promotion.id) > limit:
                raise QuotaExceeded()

    def list_promotion_codes(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
        with self._reading() as db:
            total = _promotion_code_count(db, tenant, promotion_id)
            rows = db.execute(
                f"SELECT {_CODE_COLUMNS} FROM promotion_codes "
                f"WHERE tenant = {TENANT} AND promotion_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                (tenant, promotion_id, limit, offset),
            ).fetchall()
        return Page(items=[_code(row) for row in rows], total=total)

    def find_promotion_code(self, tenant: str, code: str) -> tuple[Promotion, PromotionCode] | None:
        columns = ", ".join(f"p.{c.strip()}" for c in _PROMOTION_COLUMNS.split(","))
        codes = ", ".join(f"c.{c.strip()}" for c in _CODE_COLUMNS.split(","))
        with self._read() as db:
            row = db.one(
                f"SELECT {columns}, {codes} FROM promotion_codes c "
                "JOIN promotions p ON p.tenant = c.tenant AND p.id = c.promotion_id "
                f"WHERE c.tenant = {TENANT} AND c.code = ?",
                (tenant, code),
            )
        return (_promotion(row[:14]), _code(row[14:])) if row else None

    def use_promotion_code(self, tenant: str, promotion_id: str, code: str, usage: PromotionUsage | None = None) -> PromotionCode:
        with self._writing() as db:
            # With a usage to record, the tenant's row lock first, as every other write of the
            # tenant takes it (the same order everywhere: no deadlock).
            number = tenant_number(db, tenant) if usage is not None else None
            # One statement that counts only while uses are left: atomic in either dialect.
            row = db.one(
                f"UPDATE promotion_codes SET used = used + 1 WHERE tenant = {TENANT} AND promotion_id = ? AND code = ? "
                f"AND (uses IS NULL OR used < uses) RETURNING {_CODE_COLUMNS}",
                (tenant, promotion_id, code),
            )
            if row is None:
                raise AlreadyUsed()
            if usage is not None:
                moltin_history.add_usage(db, number, usage)
        return _code(row)

    def promotion_code_count(self, tenant: str, promotion_id: str) -> int:
        with self._read() as db:
            return _promotion_code_count(db, tenant, promotion_id)

    def delete_promotion_codes(self, tenant: str, promotion_id: str, codes: Iterable[str]) -> int:
        with self._writing() as db:
            return db.executemany(
                f"DELETE FROM promotion_codes WHERE tenant = {TENANT} AND promotion_id = ? AND code = ?",
                [(tenant, promotion_id, code) for code in codes],
            )


def _update_promotion(db: Db, tenant: str, promotion: Promotion) -> None:
    _, *values = _promotion_row(promotion)
    written = db.execute(
        f"UPDATE promotions SET {_PROMOTION_ASSIGNMENTS} WHERE tenant = {TENANT} AND id = ?", (*values, tenant, promotion.id)
    ).rowcount
    if not written:
        # The domain looked the promotion up first; it was deleted meanwhile.
        raise KeyError(promotion.id)


def _delete_codes_of(db: Db, tenant: str, promotion_id: str) -> None:
    db.execute(f"DELETE FROM promotion_codes WHERE tenant = {TENANT} AND promotion_id = ?", (tenant, promotion_id))


def _promotion_code_count(db: Db, tenant: str, promotion_id: str) -> int:
    return db.value(f"SELECT count(*) FROM promotion_codes WHERE tenant = {TENANT} AND promotion_id = ?", (tenant, promotion_id))


def _promotion_row(p: Promotion) -> tuple:
    """The values of `_PROMOTION_COLUMNS`, in that order."""
    return (
        p.id,
        p.name,
        p.description,
        int(p.enabled),
        p.promotion_type,
        json.dumps(p.schema),
        text(p.start),
        text(p.end),
        text(p.created_at),
        text(p.updated_at),
        None if p.automatic is None else int(p.automatic),
        json.dumps(p.extras),
        p.created_by,
        p.updated_by,
    )


def _promotion(row: tuple) -> Promotion:
    pid, name, description, enabled, kind, schema, start, end, created, updated, automatic, extras, by, changed_by = row
    return Promotion(
        id=pid,
        name=name,
        description=description,
        enabled=bool(enabled),
        promotion_type=kind,
        schema=json.loads(schema),
        start=moment(start),
        end=moment(end),
        created_at=moment(created),
        updated_at=moment(updated),
        automatic=None if automatic is None else bool(automatic),
        extras=json.loads(extras),
        created_by=by,
        updated_by=changed_by,
    )


def _code_row(c: PromotionCode) -> tuple:
    """The values of `_CODE_COLUMNS`: one customer id in `code_user`, a list in `users_json`."""
    several = isinstance(c.user, tuple)
    return (
        c.code,
        c.uses,
        None if several else c.user,
        c.consume_unit,
        c.used,
        None if c.created_at is None else text(c.created_at),
        c.created_by,
        json.dumps(list(c.user)) if several else None,
    )


def _code(row: tuple) -> PromotionCode:
    code, uses, user, unit, used, created, by, users = row
    return PromotionCode(
        code=code,
        uses=uses,
        user=tuple(json.loads(users)) if users is not None else user,
        consume_unit=unit,
        used=used,
        created_at=None if created is None else moment(created),
        created_by=by,
    )
