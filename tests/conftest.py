"""Fixtures shared by the suites: an app with a fresh store, and clients for each vendor."""

from __future__ import annotations

import os

import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.core.clock import Clock
from codestand.settings import Settings
from codestand.storage.base import Storage
from codestand.storage.memory import MemoryStorage
from codestand.storage.sqlite import SqliteStorage
from tests import pg

TI_KEY = "ti-test-key"


# The stores the suites run on: all three, or those `CODESTAND_TEST_STORES` names
# (`make test-quick` runs on memory alone).
TEST_STORES = [s for s in os.environ.get("CODESTAND_TEST_STORES", "memory,sqlite,postgresql").split(",") if s]


@pytest.fixture
def settings() -> Settings:
    return Settings(access_log=False)


STORE_DATABASE = "codestand_tests"


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Cluster]:
    """The session's throwaway PostgreSQL cluster (tests/pg.py), with a database for `store`.

    Without a server installed the PostgreSQL tests are skipped on a developer's machine, and
    fail with CI=true: CI must run them (.ci/run installs the `postgresql` package).
    """
    pg.require()
    cluster = pg.Cluster().start()
    try:
        cluster.create_database(STORE_DATABASE)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(params=TEST_STORES)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Storage]:
    """A fresh store of each backend, so every suite that uses it runs against all three."""
    if request.param == "postgresql":
        from codestand.storage.postgresql import PostgresStorage

        cluster = request.getfixturevalue("postgres")
        backend: Storage = PostgresStorage(cluster.url(STORE_DATABASE), pool_size=4)
        try:
            yield backend
        finally:
            backend.close()
            # The next test's store is fresh: every table emptied, numbering from 1 again.
            tables = cluster.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'codestand_schema'", STORE_DATABASE)
            cluster.admin(f"TRUNCATE {', '.join(t for (t,) in tables)} RESTART IDENTITY", STORE_DATABASE)
        return
    backend = MemoryStorage() if request.param == "memory" else SqliteStorage(tmp_path / "codestand.sqlite")
    yield backend
    backend.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings, store, clock):
    return create_app(settings, store=store, clock=clock)


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def ti(client) -> TestClient:
    """A client that sends a Thought Industries API key on every request."""
    client.headers["Authorization"] = f"Bearer {TI_KEY}"
    return client


@pytest.fixture
def moltin(client) -> TestClient:
    """A client holding a client_credentials token of store `store-1`."""
    client.headers["Authorization"] = f"Bearer {token_for(client, 'store-1')}"
    return client


def token_for(client: TestClient, client_id: str, grant: str = "client_credentials") -> str:
    form = {"grant_type": grant, "client_id": client_id}
    if grant == "client_credentials":
        form["client_secret"] = "secret"
    response = client.post("/oauth/access_token", data=form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def fresh_pg_store(request: pytest.FixtureRequest) -> Storage:
    """A PostgreSQL store on a new database of the session's cluster, for a suite that makes its
    own stores (module-scoped fixtures); the database goes when the test session does."""
    from codestand.storage.postgresql import PostgresStorage

    cluster = request.getfixturevalue("postgres")
    return PostgresStorage(cluster.create_database(f"suite_{uuid.uuid4().hex[:12]}"), pool_size=4)


@pytest.fixture
def pg_database(postgres) -> Iterator[str]:
    """A fresh, empty database of the session's cluster, for one test: its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)
