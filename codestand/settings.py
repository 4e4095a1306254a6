"""Everything configurable, in one frozen dataclass (the CLI and the tests build it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# How long a keep-alive connection may sit idle between requests before the server closes it
# (uvicorn's `timeout_keep_alive`; its default is 5 s). A client's connection pool must give
# up an idle connection before the server does: a request sent on a connection just as the
# server closes it fails in transport. httpx gives up after 5 s, aiohttp 15 s, Node's fetch
# 4 s; nginx keeps 75 s, which is what this is.
KEEP_ALIVE_SECONDS = 75


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    storage: str = "memory"
    # PostgreSQL: connections each process may hold, and how long a request waits for one (or
    # for the server to answer a connection) before it is a 503.
    db_pool_size: int = 10
    db_timeout: float = 5.0
    # Processes serving one port; more than one needs a storage they share (not memory).
    workers: int = 1
    # None: the seed shipped in the package (codestand/seed/catalog.yaml).
    seed: Path | None = None
    # Refuse catalog ids the tenant's catalog does not have, instead of placeholders.
    strict_catalog: bool = False
    # Empty: any non-empty key is accepted and is its own tenant.
    ti_api_keys: tuple[str, ...] = ()
    # Empty: any Moltin client_id and secret are accepted; else only these (id, secret) pairs.
    moltin_clients: tuple[tuple[str, str], ...] = ()
    # When set, every control-plane route needs `Authorization: Bearer <admin_token>`.
    admin_token: str | None = None
    # Request bodies above this many bytes are refused with 413 before they are read whole.
    max_body_bytes: int = 1_048_576
    # One log line per request (method, path, status, milliseconds).
    access_log: bool = True
    # `text`: the access line and messages as plain text; `json`: one JSON object a line.
    log_format: str = "text"
    # How many vendor requests the journal keeps (0: none).
    journal_size: int = 1000
    # Seeds the draws of fault rules (probability, latency ranges) for repeatable runs.
    fault_seed: int | None = None
    # Origins whose pages may call the vendor routes (CORS); empty: any origin.
    cors_origins: tuple[str, ...] = ()
    # "off": vendor rate limits are counted and reported (headers) but never refuse a request;
    # "vendor": they refuse over the documented limits (429). The control plane can turn them on
    # or off for one tenant either way.
    rate_limits: str = "off"
    # A YAML or JSON file of Thought Industries keys: key -> instance, role and plan.
    ti_keys: Path | None = None
    # Host names requests may name besides the loopback names and `host` (`*`: any). The
    # default is the name Starlette's in-process test client sends; `codestand serve` passes
    # only what `--allowed-host` gives, so a real server never answers to it unless asked.
    allowed_hosts: tuple[str, ...] = ("testserver",)
    # Serve on an address other than loopback without an admin token (`--insecure-no-admin-token`).
    insecure_no_admin_token: bool = False
    # Bounds (README, "Security"): forget tenants unused for this many seconds (None: never);
    # hold at most this many tenants (None: no limit); refuse writes that would take one tenant
    # over this many stored codes; a tenant's own catalog holds at most this many items.
    tenant_ttl_seconds: float | None = None
    max_tenants: int | None = None
    tenant_max_codes: int = 1_000_000
    max_catalog_items: int = 10_000
    # "off": vendor rate limits are counted and reported (headers) but never refuse a request;
    # "vendor": they refuse over the documented limits (429). The control plane can turn them on
    # or off for one tenant either way.
    rate_limits: str = "off"
