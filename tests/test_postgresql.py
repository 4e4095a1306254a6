"""The PostgreSQL store at start: the schema made, migrated once under a lock, a newer or foreign
database refused and left untouched; the password never shown; the command line's spec."""

from __future__ import annotations

import threading

import pytest

from codestand.storage import StorageError, check_spec, shared_between_processes
from codestand.storage.postgresql import PostgresStorage, shown
from codestand.storage.sql.schema import SCHEMA_VERSION
from tests import pg
from tests.live import Server, clean_env, run_cli


@pytest.fixture
def database(postgres, request):
    name = "start_" + request.node.name.lower()[:40].replace("[", "_").replace("]", "").replace("-", "_")
    postgres.drop_database(name)
    yield name, postgres.create_database(name)
    postgres.drop_database(name)


def _contents(cluster, name: str) -> list:
    """Every table of the database with its rows: to compare before and after."""
    tables = [t for (t,) in cluster.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", name)]
    return [(t, sorted(map(repr, cluster.query(f'SELECT * FROM "{t}"', name)))) for t in tables]


def test_a_new_database_gets_the_schema_and_its_version(postgres, database):
    name, url = database
    store = PostgresStorage(url, pool_size=1)
    store.close()
    assert postgres.query("SELECT version FROM codestand_schema", name) == [(SCHEMA_VERSION,)]
    tables = {t for (t,) in postgres.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", name)}
    assert {"tenants", "redemption_groups", "redemption_codes", "promotions", "promotion_codes", "tokens",
            "catalog_items", "clock_state", "fault_rules", "journal", "codestand_schema"} <= tables  # fmt: skip


def test_replicas_starting_together_make_the_schema_once(postgres, database):
    name, url = database
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresStorage(url, pool_size=1).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert postgres.query("SELECT version FROM codestand_schema", name) == [(SCHEMA_VERSION,)]


def test_a_database_of_a_newer_codestand_is_refused_and_left_untouched(postgres, database):
    name, url = database
    PostgresStorage(url, pool_size=1).close()
    postgres.admin(f"UPDATE codestand_schema SET version = {SCHEMA_VERSION + 1}", name)
    postgres.admin("INSERT INTO tenants (name) VALUES ('kept')", name)
    before = _contents(postgres, name)
    with pytest.raises(StorageError) as refused:
        PostgresStorage(url, pool_size=1)
    assert str(refused.value) == (
        f"database {shown(url)} has schema version {SCHEMA_VERSION + 1}, written by a newer codestand; this one reads "
        f"versions up to {SCHEMA_VERSION}. The database is left untouched: upgrade codestand or choose another database"
    )
    assert _contents(postgres, name) == before


def test_a_database_of_another_program_is_refused_and_left_untouched(postgres, database):
    name, url = database
    postgres.admin("CREATE TABLE tenants (who TEXT)", name)
    postgres.admin("INSERT INTO tenants VALUES ('theirs')", name)
    before = _contents(postgres, name)
    with pytest.raises(StorageError, match="has a table `tenants` but no codestand schema version"):
        PostgresStorage(url, pool_size=1)
    assert _contents(postgres, name) == before


def test_the_password_is_never_shown_when_it_is_refused_or_the_server_is_not_there(postgres):
    wrong = postgres.url("postgres", password="Wrong-Pass-123")
    with pytest.raises(StorageError) as refused:
        PostgresStorage(wrong, pool_size=1)
    message = str(refused.value)
    assert message.startswith(f"cannot connect to PostgreSQL at postgresql://{pg.USER}:***@127.0.0.1:{postgres.port}/postgres: ")
    assert "password authentication failed" in message
    assert "Wrong-Pass-123" not in message

    nowhere = f"postgresql://{pg.USER}:{pg.PASSWORD}@127.0.0.1:1/postgres"
    with pytest.raises(StorageError) as unreachable:
        PostgresStorage(nowhere, pool_size=1, timeout=1)
    assert str(unreachable.value).startswith(f"cannot connect to PostgreSQL at postgresql://{pg.USER}:***@127.0.0.1:1/postgres: ")
    assert pg.PASSWORD not in str(unreachable.value)


def test_the_command_line_names_postgresql_without_its_password(postgres, database, tmp_path):
    name, url = database
    assert check_spec(url) == url
    assert shared_between_processes(url)
    with Server(tmp_path / "server.log", "--storage", url) as server:
        with server.client() as http:
            health = http.get("/__codestand/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "storage": "postgresql", "version": "0.1.0"}
    log = server.log()
    assert f"(storage: postgresql://{pg.USER}:***@127.0.0.1:{postgres.port}/{name})" in log
    assert pg.PASSWORD not in log


def test_the_environment_names_the_store_too_and_a_refusal_hides_the_password(postgres):
    wrong = postgres.url("postgres", password="Env-Wrong-Pass")
    result = run_cli("serve", "--port", "1", env=clean_env(CODESTAND_STORAGE=wrong))
    assert result.returncode == 1
    assert result.stderr.startswith(f"codestand: cannot connect to PostgreSQL at postgresql://{pg.USER}:***@127.0.0.1:")
    assert "Env-Wrong-Pass" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_spec_that_is_not_a_url_is_a_usage_error_without_the_password():
    result = run_cli("serve", "--storage", "postgresql:/nohost-Secret-Word")
    assert result.returncode == 2
    assert "is not a storage" in result.stderr
