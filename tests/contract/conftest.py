"""What the Schemathesis suites share: a real stand-in per storage backend, the settings every
suite runs with, two identities for the `object_level_authorization` check, and the figures a
run reports.

- **Backends.** Each suite runs once per store named in `CODESTAND_CONTRACT_STORES` (default
  `memory,sqlite,postgresql`): a `codestand serve` process with `--storage memory`, a fresh
  `sqlite:FILE`, or a fresh database of a throwaway PostgreSQL cluster (tests/pg.py, started
  at import for the whole run; without a server installed, PostgreSQL is left out, except with
  CI=true, where that fails the run).
- **Settings.** `schemathesis.toml` (the per-operation notes) plus every check and every phase;
  `CODESTAND_FUZZ_EXAMPLES` examples an operation. Generation is deterministic unless
  `CODESTAND_FUZZ_SEED` names a seed (`make fuzz` gives each round its own).
- **Two identities.** Schemathesis' `object_level_authorization` check replays an owner's read
  as a peer and fails if the peer gets the owner's object. It needs a Web Fuzzing Commons auth
  document naming both (`[auth.wfc]`, `peers`); the owner makes every request, the peer is
  used only for those replays. `ignored_auth` strips whatever the owner's credentials put on a
  request, so it runs as before.
- **Figures.** Every case Schemathesis sends is counted by store and operation; the run ends
  with a line per store (operations, cases, failures), and `CODESTAND_FUZZ_STATS=FILE` writes
  them as JSON for `tests/fuzz.py`.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests import pg
from tests.live import ROOT, Server

STORES = [
    store
    for store in os.environ.get("CODESTAND_CONTRACT_STORES", os.environ.get("CODESTAND_TEST_STORES", "memory,sqlite,postgresql")).split(",")
    if store
]
if "postgresql" in STORES and pg.binaries() is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but no PostgreSQL server is installed (apt-get install postgresql)")
    STORES.remove("postgresql")
SEED = int(os.environ["CODESTAND_FUZZ_SEED"]) if os.environ.get("CODESTAND_FUZZ_SEED") else None
OWNER, PEER = "tenant-a", "tenant-b"


def examples(default: int) -> int:
    return int(os.environ.get("CODESTAND_FUZZ_EXAMPLES", default))


def config(*, base_url: str, max_examples: int, wfc: Path | None = None, headers: dict | None = None) -> SchemathesisConfig:
    """`schemathesis.toml` with every check and phase on, against `base_url`."""
    data = tomllib.loads((ROOT / "schemathesis.toml").read_text(encoding="utf-8"))
    # Merged into the file's own tables (its `[generation]` says what never to generate).
    for table, values in {
        "checks": {"enabled": True},
        "phases": {"enabled": True},
        "generation": {"max-examples": max_examples, "deterministic": SEED is None},
    }.items():
        data[table] = {**data.get(table, {}), **values}
    data.update({"base-url": base_url, "suppress-health-check": ["all"]})
    if SEED is not None:
        data["seed"] = SEED
    if wfc is not None:
        data["auth"] = {"wfc": {"path": str(wfc), "user": OWNER, "peers": [OWNER, PEER]}}
    if headers:
        data["headers"] = headers
    return SchemathesisConfig.from_dict(data)


def stateful_settings(max_examples: int, steps: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=SEED is None,
    )


def bearer_identity(name: str, key: str) -> dict:
    """A WFC identity that sends a fixed bearer key (a Thought Industries API key)."""
    return {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}


def token_identity(name: str, client_id: str, client_secret: str) -> dict:
    """A WFC identity that gets its token from Moltin's token endpoint, as a store's backend does."""
    return {
        "name": name,
        "loginEndpointAuth": {
            "endpoint": "/oauth/access_token",
            "verb": "POST",
            "contentType": "application/x-www-form-urlencoded",
            "payloadRaw": f"grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}",
            "token": {
                "extractFrom": "body",
                "extractSelector": "/access_token",
                "sendIn": "header",
                "sendName": "Authorization",
                "sendTemplate": "Bearer {token}",
            },
        },
    }


def wfc_document(folder: Path, owner: dict, peer: dict) -> Path:
    path = folder / "wfc-auth.json"
    path.write_text(json.dumps({"auth": [owner, peer]}), encoding="utf-8")
    return path


class PeerReplays:
    """The requests the peer identity sent, read from the journal after each scenario."""

    def __init__(self, url: str, peer: str) -> None:
        self.url = url
        self.peer = peer
        self.seen: dict[int, tuple[str, str, int]] = {}

    def collect(self) -> None:
        entries = httpx.get(f"{self.url}/__codestand/journal", params={"tenant": self.peer}).json()["entries"]
        self.seen.update({e["id"]: (e["method"], e["path"], e["status"]) for e in entries})

    def refused(self, pattern: str) -> list[tuple[str, str, int]]:
        return [(m, p, s) for m, p, s in self.seen.values() if m == "GET" and re.fullmatch(pattern, p) and s == 404]


# Port -> store of every server the suites started, to count each case for its store.
_SERVERS: dict[int, str] = {}
_FOLDER = Path(tempfile.mkdtemp(prefix="codestand-contract-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)


_CLUSTERS: list[pg.Cluster] = []


def _cluster() -> pg.Cluster:
    """The run's PostgreSQL cluster, started on first use and stopped when Python exits (after
    the servers, which are registered later and so stopped first)."""
    if not _CLUSTERS:
        cluster = pg.Cluster().start()
        atexit.register(cluster.close)
        _CLUSTERS.append(cluster)
    return _CLUSTERS[0]


def folder(name: str) -> Path:
    """A fresh folder for this run's files (servers' logs and stores, auth documents)."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_FOLDER))


def stand_ins(name: str, *args: str) -> dict[str, Server]:
    """`codestand serve ARGS` on each backend, started now (together) and stopped when Python exits.

    Now, at import: Schemathesis builds the coverage phase's cases, and asks for their
    credentials (a Moltin token), while pytest collects, before any fixture exists.
    """
    servers = {}
    for backend in STORES:
        where = folder(f"{name}-{backend}")
        if backend == "postgresql":
            storage = ["--storage", _cluster().create_database(where.name.replace("-", "_"))]
        else:
            storage = [] if backend == "memory" else ["--storage", f"sqlite:{where / 'codestand.sqlite'}"]
        servers[backend] = Server(where / "stderr.log", *storage, *args)
    for server in servers.values():
        atexit.register(server.close)
    with ThreadPoolExecutor() as pool:
        list(pool.map(Server.start, servers.values()))
    for backend, server in servers.items():
        _SERVERS[server.port] = backend
    return servers


@pytest.fixture(scope="module", autouse=True)
def no_tracebacks(request):
    """The servers a suite started logged no traceback while it ran."""
    yield
    for server in getattr(request.module, "SERVERS", {}).values():
        log = server.log()
        assert "Traceback" not in log, log


# Figures --------------------------------------------------------------------------------------

_cases: dict[str, int] = {}
_operations: dict[str, set[str]] = {}
_failed: dict[str, set[str]] = {}


@schemathesis.hook
def after_call(context, case, response) -> None:
    store = _SERVERS.get(urlsplit(response.request.url).port or 0)
    if store is not None:
        _cases[store] = _cases.get(store, 0) + 1
        _operations.setdefault(store, set()).add(case.operation.label)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and "tests/contract/" in report.nodeid.replace("\\", "/"):
        for store in STORES:
            # `test_..._memory[POST /v2/promotions]`, `test_...[sqlite]`
            if re.search(rf"(?<![a-z]){store}(?![a-z])", report.nodeid.split("::")[-1]):
                _failed.setdefault(store, set()).add(report.nodeid)


def figures() -> dict[str, dict]:
    return {
        store: {
            "operations": sorted(_operations.get(store, ())),
            "cases": _cases.get(store, 0),
            "failures": len(_failed.get(store, ())),
        }
        for store in STORES
        if store in _cases or store in _failed
    }


def pytest_terminal_summary(terminalreporter) -> None:
    found = figures()
    if not found:
        return
    terminalreporter.write_sep("=", "Schemathesis")
    for store, counts in found.items():
        terminalreporter.write_line(
            f"{store}: {len(counts['operations'])} operations, {counts['cases']} cases sent, {counts['failures']} failures"
        )
    if os.environ.get("CODESTAND_FUZZ_STATS"):
        Path(os.environ["CODESTAND_FUZZ_STATS"]).write_text(json.dumps(found), encoding="utf-8")
