"""A storage file that cannot be written while the server runs: a 503 in the vendor's shape, reads
keep working, nothing half-written, and writes succeed again once the file can be written, with
no restart.

How a running server's file stops being writable, for real:

- `chmod` does not do it: permissions are checked when a file is opened, and the server keeps
  its connection (and so its file descriptors) open; as root they are not checked at all. (A
  connection SQLite opens while the file is not writable is silently read-only, though: see
  `test_a_connection_opened_read_only_is_replaced_once_the_file_is_writable`.)
- A file system cannot be remounted read-only while files on it are open for writing (EBUSY).
- What does happen is that write(2) fails: a full disk (ENOSPC), an I/O error (EIO), a file
  size limit (EFBIG). The first test makes every file write of the server fail by lowering its
  RLIMIT_FSIZE to 0 with prlimit(2), which needs no privilege over one's own child process and
  works on any Linux machine, root or not; the second fills a small tmpfs, where mounting one in
  a private mount namespace is allowed (root with CAP_SYS_ADMIN), and says so when it is not.
"""

from __future__ import annotations

import errno
import resource
import shutil
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from codestand.app import create_app
from codestand.settings import Settings
from codestand.storage import StorageUnavailable, sqlite_file
from codestand.storage.sqlite import SqliteStorage
from tests.live import (
    LASTING_PROMOTION,
    Server,
    codes_body,
    counters_that_disagree,
    half_written_groups,
    moltin_headers,
    ti_group,
    ti_headers,
)
from tests.samples import GROUP

KEY, STORE = "unavailable-key", "unavailable-store"
NOT_WRITABLE = "the storage file cannot be written (disk I/O error)"


def ti_message(reason: str) -> dict:
    return {"errors": [f"Storage is not available: {reason}. Nothing was changed; try again later."]}


def moltin_message(reason: str) -> dict:
    detail = f"The storage is not available: {reason}. Nothing was changed; try again later."
    return {"errors": [{"status": 503, "title": "Service Unavailable", "detail": detail}]}


# The SQLite file's write lock held by another process for longer than the store waits ------


@pytest.fixture
def locked_store(tmp_path, monkeypatch):
    """An app on a SQLite store that waits 0.2 s for the write lock, and a connection of another
    process's kind that can take that lock."""
    monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_SECONDS", 0.2)
    path = tmp_path / "locked.sqlite"
    store = SqliteStorage(path)
    other = sqlite3.connect(path, isolation_level=None)
    yield create_app(Settings(access_log=False), store=store), other
    other.close()
    store.close()


def test_a_write_that_waits_too_long_for_the_lock_is_a_503_in_each_vendors_shape(locked_store, caplog):
    app, other = locked_store
    reason = "another process has held the storage file's lock for over 0.2 seconds"
    with TestClient(app) as client:
        ti = ti_headers(KEY)
        moltin = moltin_headers(client, STORE)
        group = client.post("/incoming/v2/redemptionCodes", headers=ti, json=GROUP).json()
        codes = client.get(f"/__codestand/tenants/{KEY}/redemption-code-groups/{group['id']}/codes").json()["codes"]

        other.execute("BEGIN IMMEDIATE")
        refused = client.post("/incoming/v2/redemptionCodes", headers=ti, json=GROUP)
        assert (refused.status_code, refused.json()) == (503, ti_message(reason))
        refused = client.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION)
        assert (refused.status_code, refused.json()) == (503, moltin_message(reason))
        refused = client.post(f"/__codestand/tenants/{KEY}/redemptions", json={"code": codes[0]["code"], "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})
        assert (refused.status_code, refused.json()["errors"][0]["detail"]) == (503, moltin_message(reason)["errors"][0]["detail"])
        # Reads do not need the lock.
        assert client.get(f"/incoming/v2/redemptionCodes/{group['id']}", headers=ti).json()["redeemedCodesCount"] == 0
        assert client.get("/v2/promotions", headers=moltin).json()["meta"]["results"]["total"] == 0
        other.execute("ROLLBACK")

        assert client.post("/incoming/v2/redemptionCodes", headers=ti, json=GROUP).status_code == 201
        assert client.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION).status_code == 201
        redeemed = client.post(f"/__codestand/tenants/{KEY}/redemptions", json={"code": codes[0]["code"], "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})
        assert redeemed.status_code == 201
    # One line for the operator each time, no traceback.
    warnings = [r for r in caplog.records if r.name == "codestand.errors"]
    assert [(r.levelname, r.getMessage()) for r in warnings] == [("WARNING", f"storage unavailable: {reason}")] * 3
    assert not any(r.exc_info for r in warnings)


def test_a_connection_opened_read_only_is_replaced_once_the_file_is_writable(tmp_path, monkeypatch):
    """SQLite opens a file it may not write read-only, without a word, and that connection stays
    read-only; a non-root server opening its file while it is not writable gets one. The store
    drops it at the first refused write, and the next write opens a writable one."""
    store = SqliteStorage(tmp_path / "s.sqlite")
    writable = sqlite_file.connect
    monkeypatch.setattr(sqlite_file, "connect", lambda path, create: sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None))
    with pytest.raises(StorageUnavailable) as refused:
        store.reset("someone")
    assert refused.value.reason == "the storage file is read-only"
    assert store.list_groups("someone", query=None, sort=None, descending=False, offset=0, limit=5).total == 0  # reads work

    monkeypatch.setattr(sqlite_file, "connect", writable)
    store.reset("someone")  # no longer refused
    store.close()


# The file refuses writes while the server runs ----------------------------------------------


def _writes(http: httpx.Client, ti: dict, moltin: dict, promotion: str, code: str) -> list[tuple[str, httpx.Response]]:
    """One write of each kind, the 10,000-code group first; none of them changes anything that
    another one needs."""
    return [
        ("big group", http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("big", 10_000, 10))),
        ("group", http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("small", 5, 8))),
        ("promotion", http.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION)),
        ("codes", http.post(f"/v2/promotions/{promotion}/codes", headers=moltin, json=codes_body("LATER-1", "LATER-2"))),
        ("delete code", http.delete(f"/v2/promotions/{promotion}/codes/KEPT-2", headers=moltin)),
        ("token", http.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": STORE})),
        ("redemption", http.post(f"/__codestand/tenants/{KEY}/redemptions", json={"code": code, "userId": "7c1f0e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f"})),
        ("use", http.post(f"/__codestand/tenants/{STORE}/promotion-code-uses", json={"code": "KEPT-1"})),
    ]


def _state(http: httpx.Client) -> tuple[dict, dict]:
    return tuple(http.get(f"/__codestand/tenants/{tenant}/snapshot").json() for tenant in (KEY, STORE))


def _check_refused_then_recovered(server: Server, http: httpx.Client, make_unwritable, make_writable, reason: str) -> None:
    ti, moltin = ti_headers(KEY), moltin_headers(http, STORE)
    group = http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("before", 5, 8)).json()["id"]
    codes = [c["code"] for c in http.get(f"/__codestand/tenants/{KEY}/redemption-code-groups/{group}/codes").json()["codes"]]
    promotion = http.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION).json()["data"]["id"]
    assert http.post(f"/v2/promotions/{promotion}/codes", headers=moltin, json=codes_body("KEPT-1", "KEPT-2")).status_code == 201
    before = _state(http)

    make_unwritable()
    try:
        refused = _writes(http, ti, moltin, promotion, codes[0])
        # Reads keep working, and show nothing of the refused writes.
        assert http.get(f"/incoming/v2/redemptionCodes/{group}", headers=ti).status_code == 200
        assert http.get("/incoming/v2/redemptionCodes", headers=ti).json()["pageInfo"]["total"] == 1
        listed = http.get(f"/v2/promotions/{promotion}/codes", headers=moltin).json()["data"]
        assert [c["code"] for c in listed] == ["KEPT-1", "KEPT-2"]
        assert _state(http) == before
        assert http.get("/__codestand/health").status_code == 200  # it reads
    finally:
        make_writable()

    for what, response in refused:
        assert response.status_code == 503, (what, response.text)
        if what in ("big group", "group"):
            assert response.json() == ti_message(reason)
        else:  # Moltin's shape, and the control plane's, which follows it
            assert response.json()["errors"][0]["detail"] == moltin_message(reason)["errors"][0]["detail"], what

    # Writable again: the same writes succeed, no restart.
    accepted = dict(_writes(http, ti, moltin, promotion, codes[0]))
    assert {what: r.status_code for what, r in accepted.items()} == {
        "big group": 201,
        "group": 201,
        "promotion": 201,
        "codes": 201,
        "delete code": 204,
        "token": 200,
        "redemption": 201,
        "use": 201,
    }
    big = accepted["big group"].json()["id"]
    assert len(http.get(f"/__codestand/tenants/{KEY}/redemption-code-groups/{big}/codes").json()["codes"]) == 10_000

    log = server.log()
    assert "Traceback" not in log
    assert f"codestand.errors storage unavailable: {reason}" in log


def test_writes_the_file_refuses_at_run_time_are_503s_and_recover_without_a_restart(tmp_path):
    path = tmp_path / "store.sqlite"
    with Server(tmp_path / "server.log", "--storage", f"sqlite:{path}", log_through_pipe=True) as server:
        pid = server.process.pid
        limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        with server.client() as http:
            _check_refused_then_recovered(
                server,
                http,
                # Every write(2) of the server to any file now fails with EFBIG, as on a disk
                # that refuses writes; its log goes through a pipe, which is not a file.
                lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, limits[1])),
                lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, limits),
                NOT_WRITABLE,
            )
        assert server.process.poll() is None
    assert half_written_groups(path) == []
    assert counters_that_disagree(path) == []


def _tmpfs_allowed(folder: Path) -> str | None:
    """Why a tmpfs cannot be mounted in a private mount namespace here; None if it can."""
    if shutil.which("unshare") is None:
        return "no unshare command"
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "-o", "size=64k", "probe", str(folder)],
        capture_output=True,
        text=True,
    )
    return None if probe.returncode == 0 else f"cannot mount a tmpfs in a private mount namespace: {probe.stderr.strip()}"


def test_a_full_disk_is_a_503_and_writes_succeed_once_there_is_room(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    why_not = _tmpfs_allowed(disk)
    if why_not:
        pytest.skip(f"{why_not}; the file size limit test covers the same path")
    # The server runs in a mount namespace of its own, on a 4 MiB tmpfs at `disk`; this process
    # sees that file system through /proc/PID/root.
    mount = 'mount -t tmpfs -o size=4m codestand "$0" && exec "$@"'
    prefix = ("unshare", "-m", "--propagation", "private", "sh", "-c", mount, str(disk))
    with Server(tmp_path / "server.log", "--storage", f"sqlite:{disk / 'store.sqlite'}", prefix=prefix) as server:
        seen = Path(f"/proc/{server.process.pid}/root") / disk.relative_to("/")
        filler = seen / "filler"

        def fill() -> None:
            with open(filler, "wb", buffering=0) as out:  # unbuffered: nothing left to fail at close
                try:
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC

        with server.client() as http:
            ti, moltin = ti_headers(KEY), moltin_headers(http, STORE)
            assert http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("before", 5, 8)).status_code == 201
            before = _state(http)
            fill()
            refused = http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("big", 10_000, 10))
            assert (refused.status_code, refused.json()) == (503, ti_message("the disk is full"))
            # A small write may still fit in the log's room left from earlier writes; whichever
            # it is, it is answered as what happened.
            small = http.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION)
            assert small.status_code in (201, 503), small.text
            if small.status_code == 503:
                assert small.json() == moltin_message("the disk is full")
                assert _state(http) == before
            assert half_written_groups(copied(seen, tmp_path / "full")) == []

            filler.unlink()
            created = http.post("/incoming/v2/redemptionCodes", headers=ti, json=ti_group("big", 10_000, 10))
            assert created.status_code == 201, created.text
            copy = copied(seen, tmp_path / "after")
        assert "Traceback" not in server.log()
        assert "codestand.errors storage unavailable: the disk is full" in server.log()
    assert half_written_groups(copy) == []
    assert counters_that_disagree(copy) == []


def copied(folder: Path, to: Path) -> Path:
    """A copy of the store in `folder`, with its log, to read from this process.

    SQLite resolves symbolic links in a file's path, so it cannot open the file through
    /proc/PID/root: that leads back to this process's own view of the path. The server is idle
    while this copies.
    """
    to.mkdir()
    for name in ("store.sqlite", "store.sqlite-wal", "store.sqlite-shm"):
        if (folder / name).exists():
            shutil.copyfile(folder / name, to / name)
    return to / "store.sqlite"
