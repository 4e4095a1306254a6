"""The SQLite file: what is refused at start (and left untouched), upgrades, reopening, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from codestand.core.models import Token
from codestand.storage import open_storage, sqlite_file
from codestand.storage.base import CodesTaken, StorageError
from codestand.storage.sqlite import SCHEMA, SCHEMA_VERSION, SqliteStorage
from tests.storage.test_contract import T0, group, promotion


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file in `directory` and its bytes: a refused file must leave all of it as it was."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_a_new_file_gets_the_schema_and_its_version(tmp_path):
    SqliteStorage(tmp_path / "new.sqlite").close()
    db = sqlite3.connect(tmp_path / "new.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_everything_is_there_after_reopening(tmp_path):
    path = tmp_path / "kept.sqlite"
    first = SqliteStorage(path)
    g, p = group(total=2), promotion()
    token = Token(token="tok", tenant="store", grant="implicit", expires_at=T0)
    first.create_group("a", g, ["aaaaaa", "bbbbbb"])
    first.add_promotion("m", p, 1000)
    first.save_token(token)
    first.close()

    again = SqliteStorage(path)
    assert again.get_group("a", g.id) == g
    assert again.group_codes("a", g.id) == ["aaaaaa", "bbbbbb"]
    assert again.code_count("a", 6) == 2
    assert again.get_promotion("m", p.id) == p
    assert again.find_token("tok") == token
    with pytest.raises(CodesTaken):
        again.create_group("a", group(total=1), ["aaaaaa"])
    again.close()


def test_a_file_that_is_not_sqlite_is_left_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("important notes, not a database\n" * 10)
    before = snapshot(tmp_path)
    with pytest.raises(StorageError, match="is not a SQLite database; it is left untouched"):
        SqliteStorage(path)
    assert snapshot(tmp_path) == before


def test_a_sqlite_file_of_another_program_is_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE mine (x)")
    other.commit()
    other.close()
    before = snapshot(tmp_path)
    with pytest.raises(StorageError, match="SQLite database of another program"):
        SqliteStorage(path)
    assert snapshot(tmp_path) == before


def test_a_file_from_a_newer_version_is_left_untouched(tmp_path):
    path = tmp_path / "future.sqlite"
    SqliteStorage(path).close()
    future = sqlite3.connect(path)
    future.execute("PRAGMA journal_mode = DELETE")  # as a newer codestand might leave it
    future.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    future.close()
    before = snapshot(tmp_path)
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 1}, written by a newer codestand"):
        SqliteStorage(path)
    assert snapshot(tmp_path) == before


def test_an_older_version_is_upgraded_in_one_transaction(tmp_path):
    path = tmp_path / "old.sqlite"
    SqliteStorage(path).close()
    later = SCHEMA_VERSION + 1
    migrations = {SCHEMA_VERSION: ("ALTER TABLE tokens ADD COLUMN scope TEXT",)}

    sqlite_file.prepare(path, schema=SCHEMA, version=later, migrations=migrations)

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == later
    assert "scope" in [row[1] for row in db.execute("PRAGMA table_info(tokens)")]


def test_a_failed_upgrade_leaves_the_old_version(tmp_path):
    path = tmp_path / "old.sqlite"
    SqliteStorage(path).close()
    broken = {SCHEMA_VERSION: ("ALTER TABLE tokens ADD COLUMN scope TEXT", "ALTER TABLE nowhere ADD COLUMN x")}
    with pytest.raises(StorageError, match="cannot write"):
        sqlite_file.prepare(path, schema=SCHEMA, version=SCHEMA_VERSION + 1, migrations=broken)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "scope" not in [row[1] for row in db.execute("PRAGMA table_info(tokens)")]


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(StorageError, match="is a directory"):
        SqliteStorage(tmp_path)


def test_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(StorageError, match="does not exist"):
        SqliteStorage(tmp_path / "missing" / "codestand.sqlite")


def test_an_unwritable_place_is_refused():
    # /proc takes no new files, whoever asks (the tests may run as root, who ignores modes).
    with pytest.raises(StorageError, match="cannot"):
        SqliteStorage(Path("/proc/codestand.sqlite"))


@pytest.mark.parametrize("spec", ["sqlite:", "sqlite", "postgres:x", "Memory"])
def test_storage_specs_that_name_nothing(spec):
    with pytest.raises(ValueError, match="is not a storage"):
        open_storage(spec)


def test_open_storage_opens_a_file(tmp_path):
    store = open_storage(f"sqlite:{tmp_path / 'spec.sqlite'}")
    assert isinstance(store, SqliteStorage)
    store.close()


def test_threads_with_their_own_connections_never_share_a_code(tmp_path):
    """Writers race on one code space of 4-character codes; each code ends up in one group."""
    store = SqliteStorage(tmp_path / "threads.sqlite")
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for k in range(10):
            # Overlapping slices: every thread offers codes that others offer too.
            codes = [f"{c:04d}" for c in range(n * 20 + k * 7, n * 20 + k * 7 + 50)]
            try:
                store.create_group("a", group(f"{n}-{k}", total=50, length=4), codes)
                result = "created"
            except CodesTaken:
                result = "taken"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    page = store.list_groups("a", query=None, sort=None, descending=False, offset=0, limit=1000)
    assert page.total == outcomes.count("created") > 0
    all_codes = [code for g in page.items for code in store.group_codes("a", g.id)]
    assert len(all_codes) == len(set(all_codes)) == 50 * page.total == store.code_count("a", 4)
    store.close()


def test_a_version_3_file_gets_the_group_flags_table(tmp_path):
    """Schema version 4 (Thought Industries' uploaded and gift groups) adds one table; a file of
    version 3 keeps its groups and gains it."""
    path = tmp_path / "v3.sqlite"
    store = SqliteStorage(path)
    kept = group(total=1)
    store.create_group("a", kept, ["aaaaaa"])
    store.close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE redemption_group_flags")
    for table in VERSION_5_TABLES:
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    store = SqliteStorage(path)
    assert store.get_group("a", kept.id) == kept
    assert store.set_group_gift("a", kept.id, True).gift is True
    store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5


VERSION_5_TABLES = ("tenant_settings", "rate_windows", "tenant_uses")


def test_a_version_4_file_gets_the_coordination_tables(tmp_path):
    """Schema version 5 (tenant settings, rate-limit windows and tenant uses, shared by the
    processes on a store) adds three tables; a file of version 4 keeps its groups and gains them."""
    path = tmp_path / "v4.sqlite"
    store = SqliteStorage(path)
    kept = group(total=1)
    store.create_group("a", kept, ["aaaaaa"])
    store.close()
    db = sqlite3.connect(path)
    for table in VERSION_5_TABLES:
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    store = SqliteStorage(path)
    assert store.get_group("a", kept.id) == kept
    store.set_tenant_setting("a", "switch", {"on": True})
    assert store.tenant_setting("a", "switch") == {"on": True}
    assert store.count_rate("key:a", 60, cap=1) == 1
    assert store.count_rate("key:a", 60, cap=1) is None
    store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
