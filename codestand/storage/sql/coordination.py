"""What the stand-in keeps of its own beside each vendor's records, so that every worker and
replica on one store sees one of each (schema version 5). A mixin of `SqlStorage`.

- `tenant_settings`: a tenant's switches set through the control plane (its rate limits, a hold
  on its promotion jobs), as JSON by name; a tenant's reset empties them, as it does its data.
- `rate_windows`: the request count of each rate-limit bucket in its current fixed window
  (`core.ratelimit`), counted in one statement so that replicas never count a request twice or
  let one through past the limit.
- `tenant_uses`: when each tenant was last used (`core.retention`), so that `--tenant-ttl`
  forgets only tenants no replica has used.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

from codestand.storage.sql.common import TENANT, moment, tenant_number, text

TO_VERSION_5: tuple[str, ...] = (
    """CREATE TABLE tenant_settings (
        tenant INTEGER NOT NULL,
        name TEXT NOT NULL,
        value_json TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
    )""",
    """CREATE TABLE rate_windows (
        bucket TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        used INTEGER NOT NULL
    )""",
    """CREATE TABLE tenant_uses (
        name TEXT PRIMARY KEY,
        used_at TEXT NOT NULL
    )""",
    "CREATE INDEX tenant_uses_by_time ON tenant_uses (used_at)",
)
STATE = ("tenant_settings",)

# Buckets of windows gone by are dropped once in this many new windows counted here.
_PRUNE_EVERY = 1024
_new_windows = itertools.count(1)
_NO_CAP = 2**62


class CoordinationTables:
    # Tenant settings ---------------------------------------------------------------------
    def tenant_setting(self, tenant: str, name: str) -> Any | None:
        with self._read() as db:
            raw = db.value(f"SELECT value_json FROM tenant_settings WHERE tenant = {TENANT} AND name = ?", (tenant, name))
        return None if raw is None else json.loads(raw)

    def set_tenant_setting(self, tenant: str, name: str, value: Any | None) -> None:
        with self._writing() as db:
            number = tenant_number(db, tenant)
            if value is None:
                db.execute("DELETE FROM tenant_settings WHERE tenant = ? AND name = ?", (number, name))
            else:
                db.execute(
                    "INSERT INTO tenant_settings (tenant, name, value_json) VALUES (?, ?, ?) "
                    "ON CONFLICT (tenant, name) DO UPDATE SET value_json = excluded.value_json",
                    (number, name, json.dumps(value)),
                )

    # Rate-limit windows ------------------------------------------------------------------
    def count_rate(self, bucket: str, window_start: int, cap: int | None) -> int | None:
        """Count a request of `bucket` in the window starting at `window_start` (Unix seconds):
        how many the window holds then; None, counting nothing, if it holds `cap` already."""
        with self._writing(relaxed=True) as db:  # a count lost in a power cut costs nothing
            used = db.value(
                "INSERT INTO rate_windows (bucket, window_start, used) VALUES (?, ?, 1) "
                "ON CONFLICT (bucket) DO UPDATE SET "
                "used = CASE WHEN rate_windows.window_start = excluded.window_start THEN rate_windows.used + 1 ELSE 1 END, "
                "window_start = excluded.window_start "
                "WHERE rate_windows.window_start <> excluded.window_start OR rate_windows.used < ? "
                "RETURNING used",
                (bucket, window_start, _NO_CAP if cap is None else cap),
            )
            if used == 1 and next(_new_windows) % _PRUNE_EVERY == 0:
                db.execute("DELETE FROM rate_windows WHERE window_start < ?", (window_start - 3600,))
        return used

    def rate_used(self, bucket: str, window_start: int) -> int:
        with self._read() as db:
            row = db.one("SELECT window_start, used FROM rate_windows WHERE bucket = ?", (bucket,))
        return row[1] if row is not None and row[0] == window_start else 0

    def clear_rates(self, name: str) -> None:
        """Forget the counts of window `name` (its buckets are `name:...`)."""
        with self._writing() as db:
            db.execute("DELETE FROM rate_windows WHERE substr(bucket, 1, ?) = ?", (len(name) + 1, name + ":"))

    # Tenant uses -------------------------------------------------------------------------
    def note_tenant_use(self, name: str, at: datetime) -> None:
        with self._writing(relaxed=True) as db:  # a use lost in a power cut: the tenant may be forgotten sooner
            db.execute(
                "INSERT INTO tenant_uses (name, used_at) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET used_at = excluded.used_at",
                (name, text(at)),
            )

    def tenant_used(self, name: str) -> datetime | None:
        with self._read() as db:
            raw = db.value("SELECT used_at FROM tenant_uses WHERE name = ?", (name,))
        return None if raw is None else moment(raw)

    def tenant_use_count(self) -> int:
        with self._read() as db:
            return db.value("SELECT count(*) FROM tenant_uses")

    def idle_tenants(self, before: datetime) -> list[str]:
        """The tenants last used before `before`, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT name FROM tenant_uses WHERE used_at < ? ORDER BY used_at", (text(before),)).fetchall()
        return [name for (name,) in rows]

    def forget_tenant_use(self, name: str | None = None, *, unless_since: datetime | None = None) -> bool:
        """Forget a tenant's last use (every tenant's, with no name); with `unless_since`, only
        if it was not used since then (another replica may have used it meanwhile)."""
        with self._writing() as db:
            if name is None:
                return db.execute("DELETE FROM tenant_uses").rowcount > 0
            if unless_since is None:
                return db.execute("DELETE FROM tenant_uses WHERE name = ?", (name,)).rowcount > 0
            return db.execute("DELETE FROM tenant_uses WHERE name = ? AND used_at < ?", (name, text(unless_since))).rowcount > 0
