"""The control plane's state, for a store that several processes share: the clock, the fault
rules and the request journal, so that every worker and replica sees one of each. A mixin of
`SqlStorage`; `codestand.control.shared` is what uses it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from codestand.storage.sql.common import moment, text

TABLES = (
    # One row, id 1: the offset from wall-clock time in microseconds, or the frozen instant.
    """CREATE TABLE clock_state (
        id INTEGER PRIMARY KEY,
        offset_us BIGINT NOT NULL,
        frozen_at TEXT
    )""",
    # A rule as the control plane shows it (`rule_json`), with its count kept apart, so that one
    # statement can count a use only while the rule has uses left, whichever replica asks.
    """CREATE TABLE fault_rules (
        seq {seq},
        rule_json TEXT NOT NULL,
        max_count INTEGER,
        applied INTEGER NOT NULL DEFAULT 0
    )""",
    # Vendor requests as the journal shows them, secrets already redacted; the newest `size`
    # are kept.
    """CREATE TABLE journal (
        seq {seq},
        entry_json TEXT NOT NULL
    )""",
)

# Trim the journal once in this many records.
_TRIM_EVERY = 32


class ControlTables:
    # Clock -----------------------------------------------------------------------------
    def clock_state(self) -> tuple[int, datetime | None]:
        """(offset in microseconds, frozen instant or None); (0, None) if never set."""
        with self._read() as db:
            row = db.one("SELECT offset_us, frozen_at FROM clock_state WHERE id = 1")
        return _clock(row)

    def control_state(self) -> tuple[tuple[int, datetime | None], list[tuple[int, dict[str, Any], int | None, int]]]:
        """The clock and the live fault rules at once: what each vendor request reads first."""
        with self._read() as db:
            clock = db.one("SELECT offset_us, frozen_at FROM clock_state WHERE id = 1")
            rules = db.execute(_RULES).fetchall()
        return _clock(clock), [_rule(row) for row in rules]

    def set_clock_state(self, offset_us: int, frozen_at: datetime | None) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT INTO clock_state (id, offset_us, frozen_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET offset_us = excluded.offset_us, frozen_at = excluded.frozen_at",
                (offset_us, None if frozen_at is None else text(frozen_at)),
            )

    def advance_clock_state(self, by_us: int, check) -> tuple[int, datetime | None]:
        """Move the clock by `by_us` in one write, so two advances at once both count; `check`
        sees the state it would leave and may refuse it (raise), writing nothing."""
        with self._writing() as db:
            offset, frozen = _clock(db.one("SELECT offset_us, frozen_at FROM clock_state WHERE id = 1"))
            offset, frozen = check(offset, frozen, by_us)
            db.execute(
                "INSERT INTO clock_state (id, offset_us, frozen_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET offset_us = excluded.offset_us, frozen_at = excluded.frozen_at",
                (offset, None if frozen is None else text(frozen)),
            )
        return offset, frozen

    # Fault rules -----------------------------------------------------------------------
    def fault_rules(self) -> list[tuple[int, dict[str, Any], int | None, int]]:
        """(number, rule, count, applied) of each live rule, in the order they were added."""
        with self._read() as db:
            return [_rule(row) for row in db.execute(_RULES).fetchall()]

    def add_fault_rule(self, rule: dict[str, Any], count: int | None) -> int:
        with self._writing() as db:
            return db.value("INSERT INTO fault_rules (rule_json, max_count) VALUES (?, ?) RETURNING seq", (json.dumps(rule), count))

    def count_fault_rule(self, number: int) -> int | None:
        """Count one use of a rule; how many it has now, or None if it had none left (another
        process used the last one) or is gone."""
        with self._writing() as db:
            row = db.one(
                "UPDATE fault_rules SET applied = applied + 1 WHERE seq = ? AND (max_count IS NULL OR applied < max_count) "
                "RETURNING applied, max_count",
                (number,),
            )
            if row is None:
                return None
            if row[1] is not None and row[0] >= row[1]:
                db.execute("DELETE FROM fault_rules WHERE seq = ?", (number,))  # used up: it expires
            return row[0]

    def remove_fault_rule(self, number: int) -> bool:
        with self._writing() as db:
            return db.execute("DELETE FROM fault_rules WHERE seq = ?", (number,)).rowcount > 0

    def clear_fault_rules(self) -> None:
        with self._writing() as db:
            db.execute("DELETE FROM fault_rules")

    # Journal ---------------------------------------------------------------------------
    def record_journal(self, entry: dict[str, Any], size: int) -> None:
        # Relaxed: an entry lost in a power cut is a diagnostic lost, not a client's write.
        with self._writing(relaxed=True) as db:
            seq = db.value("INSERT INTO journal (entry_json) VALUES (?) RETURNING seq", (json.dumps(entry),))
            if seq % _TRIM_EVERY == 0:
                db.execute("DELETE FROM journal WHERE seq <= ?", (seq - size,))

    def journal_entries(self, size: int) -> list[dict[str, Any]]:
        """The newest `size` entries, newest first, each with its number as `id`."""
        with self._read() as db:
            rows = db.execute("SELECT seq, entry_json FROM journal ORDER BY seq DESC LIMIT ?", (size,)).fetchall()
        return [{"id": seq, **json.loads(entry)} for seq, entry in rows]

    def journal_span(self, size: int) -> tuple[int, int | None]:
        """How many entries `journal_entries(size)` gives, and the oldest one's number."""
        with self._read() as db:
            newest = db.value("SELECT max(seq) FROM journal")
            if newest is None:
                return 0, None
            held, oldest = db.one("SELECT count(*), min(seq) FROM journal WHERE seq > ?", (newest - size,))
            return held, oldest

    def clear_journal(self) -> None:
        with self._writing() as db:
            db.execute("DELETE FROM journal")


_RULES = "SELECT seq, rule_json, max_count, applied FROM fault_rules WHERE max_count IS NULL OR applied < max_count ORDER BY seq"


def _clock(row: tuple | None) -> tuple[int, datetime | None]:
    if row is None:
        return 0, None
    return row[0], None if row[1] is None else moment(row[1])


def _rule(row: tuple) -> tuple[int, dict[str, Any], int | None, int]:
    return row[0], json.loads(row[1]), row[2], row[3]
