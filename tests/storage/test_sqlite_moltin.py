"""Schema version 3 (a promotion's history, jobs and usages): a version-2 file is upgraded in place,
through versions 4 and 5 too."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from codestand.core.models import Promotion, PromotionCode
from codestand.storage.sql import coordination, moltin_history, ti_pages
from codestand.storage.sqlite import SCHEMA, SCHEMA_VERSION, SqliteStorage

NOW = datetime(2024, 3, 1, tzinfo=timezone.utc)


def test_a_version_2_file_keeps_its_promotions_and_codes(tmp_path):
    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path)
    # A version-2 file has none of the tables of versions 3, 4 and 5.
    later = len(moltin_history.TO_VERSION_3) + len(ti_pages.TO_VERSION_4) + len(coordination.TO_VERSION_5)
    for statement in SCHEMA[: len(SCHEMA) - later]:
        db.execute(statement)
    db.execute("INSERT INTO tenants (name) VALUES ('s')")
    db.execute(
        "INSERT INTO promotions (tenant, id, name, description, enabled, promotion_type, schema_json, starts_at, ends_at, "
        "created_at, updated_at, automatic, extras_json) VALUES (1, 'p', 'n', 'd', 1, 'fixed_discount', '{}', ?, ?, ?, ?, NULL, '{}')",
        (NOW.isoformat(),) * 4,
    )
    db.execute("INSERT INTO promotion_codes (tenant, promotion_id, code, uses, code_user, consume_unit) VALUES (1, 'p', 'C', 2, 'u', 'per_cart')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()

    store = SqliteStorage(path)
    try:
        promotion = store.get_promotion("s", "p")
        assert promotion == Promotion(
            id="p", name="n", description="d", enabled=True, promotion_type="fixed_discount", schema={},
            start=NOW, end=NOW, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        assert store.list_promotion_codes("s", "p", offset=0, limit=10).items == [PromotionCode(code="C", uses=2, user="u")]
        store.add_promotion_version("s", promotion)
        assert store.list_promotion_versions("s", "p", offset=0, limit=10).items == [promotion]
    finally:
        store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
