"""pytest plugin: a live codestand for the test session, reset after every test.

Installed with the package (entry point `pytest11`), so any project that installs codestand gets
the `codestand` fixture with no configuration. The session's server is started in this process
on a free port, or, when `CODESTAND_URL` is set, the server at that address is used instead (a
container in CI, a `codestand serve` in another terminal). See docs/PYTEST_PLUGIN.md.

Only `httpx` is needed at run time: the server's own modules are imported when one is started.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    import uvicorn

    from codestand.settings import Settings

ENV_URL = "CODESTAND_URL"
ENV_ADMIN_TOKEN = "CODESTAND_ADMIN_TOKEN"
CONTROL = "/__codestand"
# Any secret is accepted unless the server lists its Moltin clients (`--moltin-client`).
DEFAULT_SECRET = "codestand-secret"


class ControlError(Exception):
    """The stand-in refused a helper's request; `status` and `body` say how."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            self.body: Any = response.json()
        except ValueError:
            self.body = response.text
        super().__init__(f"{response.request.method} {response.request.url.path} answered {self.status}: {self.body}")


@dataclass(frozen=True)
class LiveServer:
    """Where the session's stand-in answers, and the token its control plane wants (if any)."""

    url: str
    admin_token: str | None = None


class ClockHelper:
    """The stand-in's clock (`/__codestand/clock`): one clock for every tenant of the server."""

    def __init__(self, stand_in: Codestand) -> None:
        self._stand_in = stand_in
        self.touched = False

    def now(self) -> datetime:
        return self._read(self._stand_in._control("GET", "/clock"))

    def set(self, moment: datetime, frozen: bool = False) -> datetime:
        """Time runs on from `moment` (or stands there, `frozen`); a naive `moment` is UTC."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        self.touched = True
        return self._read(self._stand_in._control("PUT", "/clock", json={"now": moment.isoformat(), "frozen": frozen}))

    def advance(self, by: float | timedelta) -> datetime:
        seconds = by.total_seconds() if isinstance(by, timedelta) else by
        self.touched = True
        return self._read(self._stand_in._control("POST", "/clock/advance", json={"seconds": seconds}))

    def reset(self) -> datetime:
        """Back to the real time."""
        self.touched = False
        return self._read(self._stand_in._control("DELETE", "/clock"))

    @staticmethod
    def _read(body: dict) -> datetime:
        return datetime.fromisoformat(body["now"])


class Codestand:
    """A handle on a live stand-in, with fresh tenants for one test.

    `ti_key` and `moltin_client_id` are new for every handle, so tests never see each other's
    groups or promotions, even on a server that other jobs share.
    """

    def __init__(
        self,
        url: str,
        *,
        admin_token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.ti_key = f"ti-{uuid.uuid4().hex}"
        self.moltin_client_id = f"store-{uuid.uuid4().hex}"
        self.clock = ClockHelper(self)
        self.http = httpx.Client(base_url=self.url, transport=transport, timeout=timeout)
        # Every Moltin store a token was asked for, so a tenant reset can forget each one.
        self._moltin_clients: set[str] = {self.moltin_client_id}

    # Vendor side -------------------------------------------------------------------------

    def moltin_token(self, client_id: str | None = None, client_secret: str = DEFAULT_SECRET) -> str:
        """A `client_credentials` access token of `client_id` (the test's own store by default)."""
        client_id = client_id or self.moltin_client_id
        self._moltin_clients.add(client_id)
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        return self._ok(self.http.post("/oauth/access_token", data=form))["access_token"]

    # Control plane -----------------------------------------------------------------------

    def group_codes(self, group_id: str, *, tenant: str | None = None) -> list[str]:
        """The codes a Thought Industries group generated, in the order it generated them."""
        body = self._control("GET", f"/thoughtindustries/tenants/{self._ti(tenant)}/redemption-code-groups/{group_id}/codes")
        return [entry["code"] for entry in body["codes"]]

    def redeem(self, code: str, user_id: str, *, tenant: str | None = None) -> dict:
        """A learner redeems a Thought Industries code, as on the learning site's `/redeem` page."""
        return self._control("POST", f"/thoughtindustries/tenants/{self._ti(tenant)}/redemptions", json={"code": code, "userId": user_id})

    def use(self, code: str, user: str | None = None, *, tenant: str | None = None) -> dict:
        """A shopper uses a Moltin promotion code (of the test's own store by default)."""
        body: dict[str, Any] = {"code": code}
        if user is not None:
            body["user"] = user
        tenant = tenant or self.moltin_client_id
        return self._control("POST", f"/moltin/tenants/{tenant}/promotion-code-uses", json=body)

    def journal(self, **filters: Any) -> list[dict]:
        """The requests the stand-in has seen, filtered by the journal's query parameters."""
        return self._control("GET", "/journal", params=filters)["entries"]

    def reset(self, *, everything: bool = True) -> None:
        """Forget state: everything (and the clock), or only this handle's tenants.

        `everything=False` is for a server other jobs share: it forgets only the test's own Thought
        Industries key and Moltin stores, and puts the clock back only if the test moved it.
        """
        if everything:
            self._control("POST", "/reset")
            self.clock.touched = False
            return
        self._control("POST", f"/thoughtindustries/tenants/{self.ti_key}/reset")
        for tenant in sorted(self._moltin_clients):
            self._control("POST", f"/moltin/tenants/{tenant}/reset")
        if self.clock.touched:
            self.clock.reset()

    def close(self) -> None:
        self.http.close()

    # Plumbing ----------------------------------------------------------------------------

    def _ti(self, tenant: str | None) -> str:
        return tenant or self.ti_key

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        # `X-Codestand`: what no page can send cross-site (see `control.cross_site`).
        headers = {"X-Codestand": "1"}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        return self._ok(self.http.request(method, CONTROL + path, headers=headers, **kwargs))

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.is_error:
            raise ControlError(response)
        return response.json() if response.content else None


# Starting a server in this process ----------------------------------------------------------


@contextlib.contextmanager
def serve_in_thread(settings: Settings, timeout: float = 20.0) -> Iterator[str]:
    """Serve `create_app(settings)` on a free loopback port in a thread; yield its base URL.

    A thread rather than a process: the session pays no second interpreter start-up, and a test
    may reach the app's store and clock (`app.codestand`) directly if it must.
    """
    with warnings.catch_warnings():
        # Connexion imports Starlette's test client, which warns about httpx at import time.
        warnings.simplefilter("ignore")
        import uvicorn

        from codestand.app import create_app
        from codestand.settings import KEEP_ALIVE_SECONDS

        app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="codestand", daemon=True)
    thread.start()
    try:
        _wait_until_answering(url, server, thread, timeout)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_answering(url: str, server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("codestand's server thread ended before it started serving")
        if time.monotonic() > deadline:
            raise RuntimeError(f"codestand did not start within {timeout:.0f}s")
        time.sleep(0.01)
    # The landing page needs no credentials, whatever the settings.
    httpx.get(url + "/", timeout=timeout).raise_for_status()


# Fixtures ------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "codestand_reset",
        "after each test: 'all' resets the whole stand-in (default); 'tenants' only the test's own "
        "tenants and the clock if it moved, for a server other jobs share",
        default="all",
    )


@pytest.fixture(scope="session")
def codestand_settings() -> Settings:
    """Settings of the server started in this process; override this fixture to change them."""
    from codestand.settings import Settings

    return Settings(access_log=False, admin_token=os.environ.get(ENV_ADMIN_TOKEN) or None)


@pytest.fixture(scope="session")
def codestand_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The session's stand-in: the one at `CODESTAND_URL`, or one started in this process."""
    attached = os.environ.get(ENV_URL)
    if attached:
        yield LiveServer(url=attached.rstrip("/"), admin_token=os.environ.get(ENV_ADMIN_TOKEN) or None)
        return
    settings: Settings = request.getfixturevalue("codestand_settings")
    with serve_in_thread(settings) as url:
        yield LiveServer(url=url, admin_token=settings.admin_token)


@pytest.fixture
def codestand(codestand_server: LiveServer, pytestconfig: pytest.Config) -> Iterator[Codestand]:
    """A live stand-in with fresh tenants for this test; reset when the test ends."""
    mode = pytestconfig.getini("codestand_reset")
    if mode not in ("all", "tenants"):
        raise pytest.UsageError(f"codestand_reset = {mode!r}: use 'all' or 'tenants'")
    handle = Codestand(codestand_server.url, admin_token=codestand_server.admin_token)
    try:
        yield handle
    finally:
        try:
            handle.reset(everything=mode == "all")
        finally:
            handle.close()
