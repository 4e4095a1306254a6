"""A SQLite file of schema version 1 (the first release) is upgraded in place at start, in one
transaction, keeping everything it held: the catalog in the order its items were added."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from codestand.core.models import CatalogItem, Promotion, PromotionCode
from codestand.storage.sqlite import SCHEMA_VERSION, SqliteStorage

NOW = datetime(2024, 3, 1, tzinfo=timezone.utc)

# The statements of version 1, as released (codestand/storage/sqlite.py at e40b735).
VERSION_1 = (
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
    """CREATE TABLE redemption_codes (
        tenant INTEGER NOT NULL,
        code TEXT NOT NULL,
        group_seq INTEGER NOT NULL,
        position INTEGER NOT NULL,
        redeemed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, code)
    ) WITHOUT ROWID""",
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
)



def _version_1_file(path) -> None:
    db = sqlite3.connect(path)
    for statement in VERSION_1:
        db.execute(statement)
    db.execute("INSERT INTO tenants (name) VALUES ('s')")
    # Added in this order; replacing `b` later keeps its place (an upsert keeps the row).
    for item_id, name in (("c", "Third id, added first"), ("a", "Added second"), ("b", "Added third")):
        db.execute("INSERT INTO catalog_items (tenant, kind, id, name, placeholder) VALUES (1, 'courses', ?, ?, 0)", (item_id, name))
    db.execute(
        "INSERT INTO promotions (tenant, id, name, description, enabled, promotion_type, schema_json, starts_at, ends_at, "
        "created_at, updated_at, automatic, extras_json) VALUES (1, 'p', 'n', 'd', 1, 'fixed_discount', '{}', ?, ?, ?, ?, NULL, '{}')",
        (NOW.isoformat(),) * 4,
    )
    db.execute("INSERT INTO promotion_codes (tenant, promotion_id, code, uses, code_user, consume_unit) VALUES (1, 'p', 'C', 2, 'u', 'per_cart')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_a_version_1_file_is_upgraded_and_keeps_what_it_held(tmp_path):
    path = tmp_path / "v1.sqlite"
    _version_1_file(path)
    store = SqliteStorage(path)
    try:
        assert [i.id for i in store.catalog("s")["courses"]] == ["c", "a", "b"]
        store.put_catalog_items("s", "courses", [CatalogItem("b", "Renamed"), CatalogItem("d", "New")])
        assert [(i.id, i.name) for i in store.catalog("s")["courses"]] == [
            ("c", "Third id, added first"), ("a", "Added second"), ("b", "Renamed"), ("d", "New"),
        ]  # fmt: skip
        assert store.get_promotion("s", "p") == Promotion(
            id="p", name="n", description="d", enabled=True, promotion_type="fixed_discount", schema={},
            start=NOW, end=NOW, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        assert store.list_promotion_codes("s", "p", offset=0, limit=10).items == [PromotionCode(code="C", uses=2, user="u")]
        assert store.clock_state() == (0, None)
    finally:
        store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
