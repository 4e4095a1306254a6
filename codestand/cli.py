"""`codestand serve`: flags, with `CODESTAND_*` environment variables as fallbacks."""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import ipaddress
import logging
import os
import signal
import socket
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from codestand.settings import KEEP_ALIVE_SECONDS, Settings
from codestand.storage import StorageError, check_spec, shared_between_processes, shown
from codestand.workers import BACKLOG, own_listeners

ENV_PREFIX = "CODESTAND_"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


def _env_list(name: str) -> list[str]:
    value = _env(name)
    return [item for item in value.split(",") if item] if value else []


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _storage(text: str) -> str:
    try:
        return check_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of worker processes (1 or more)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (above 0)")
    return value


def _seed(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"seed file {text!r} does not exist")
    return path


def _keys_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"keys file {text!r} does not exist")
    return path


def _client(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError(f"{text!r} is not ID:SECRET")
    return client_id, secret


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return int(text)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    """`90`, `90s`, `30m`, `12h`, `7d`: seconds."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    if not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (a whole number of s, m, h or d, e.g. 12h)")
    return float(int(number) * _UNITS[unit])


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (1 or more)")
    return int(text)


def _seed_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _flag(name: str) -> bool:
    return (_env(name) or "").lower() in ("1", "true", "yes", "on")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="codestand", description="A stand-in for the Thought Industries and Moltin code APIs.")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve both vendors' APIs", description="Serve both vendors' APIs.")
    serve.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="address to bind (CODESTAND_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=_env("PORT", "8080"), help="port (CODESTAND_PORT; default 8080)")
    serve.add_argument("--storage", type=_storage, default=_env("STORAGE", "memory"), help="where state lives: memory, sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (CODESTAND_STORAGE; default memory)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=_env("WORKERS", "1"),
        help="worker processes sharing the port; more than 1 needs a shared store, sqlite:PATH or postgresql://... (CODESTAND_WORKERS; default 1)",
    )
    serve.add_argument(
        "--db-pool-size",
        type=_workers,
        default=_env("DB_POOL_SIZE", "10"),
        metavar="N",
        help="PostgreSQL connections each process may hold (CODESTAND_DB_POOL_SIZE; default 10)",
    )
    serve.add_argument(
        "--db-timeout",
        type=_seconds,
        default=_env("DB_TIMEOUT", "5"),
        metavar="SECONDS",
        help="how long a request waits for a PostgreSQL connection before it is a 503 (CODESTAND_DB_TIMEOUT; default 5)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=_env("LOG_FORMAT", "text"),
        help="text lines, or one JSON object a line (CODESTAND_LOG_FORMAT; default text)",
    )
    serve.add_argument("--seed", type=_seed, default=_env("SEED"), help="catalog YAML to load instead of the shipped one (CODESTAND_SEED)")
    serve.add_argument(
        "--strict-catalog",
        action="store_true",
        default=_flag("STRICT_CATALOG"),
        help="refuse catalog ids the tenant does not have (CODESTAND_STRICT_CATALOG=1)",
    )
    serve.add_argument(
        "--ti-api-key",
        action="append",
        default=None,
        metavar="KEY",
        help="accept only these Thought Industries keys; repeatable (CODESTAND_TI_API_KEYS, comma-separated)",
    )
    serve.add_argument(
        "--moltin-client",
        action="append",
        type=_client,
        default=None,
        metavar="ID:SECRET",
        help="accept only these Moltin clients; repeatable (CODESTAND_MOLTIN_CLIENTS, comma-separated)",
    )
    serve.add_argument(
        "--admin-token",
        default=_env("ADMIN_TOKEN"),
        metavar="TOKEN",
        help="control routes (/__codestand) need Authorization: Bearer TOKEN (CODESTAND_ADMIN_TOKEN)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="let only pages of this origin call the vendor routes; repeatable (CODESTAND_CORS_ORIGINS, comma-separated; default any origin)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="also answer requests whose Host names NAME (besides localhost, 127.0.0.1, ::1 and --host); "
        "repeatable; '*' answers any name (CODESTAND_ALLOWED_HOSTS, comma-separated)",
    )
    serve.add_argument(
        "--insecure-no-admin-token",
        action="store_true",
        default=_flag("INSECURE_NO_ADMIN_TOKEN"),
        help="serve an address other than loopback without --admin-token: anyone who can reach the port "
        "can read and change every tenant (CODESTAND_INSECURE_NO_ADMIN_TOKEN=1)",
    )
    serve.add_argument(
        "--tenant-ttl",
        type=_duration,
        default=_env("TENANT_TTL"),
        metavar="DURATION",
        help="forget tenants not used for this long, by the stand-in's clock: 90s, 30m, 12h, 7d (CODESTAND_TENANT_TTL; default never)",
    )
    serve.add_argument(
        "--max-tenants",
        type=_positive,
        default=_env("MAX_TENANTS"),
        metavar="N",
        help="hold at most N tenants; a new one beyond is a 503 (CODESTAND_MAX_TENANTS; default no limit)",
    )
    serve.add_argument(
        "--tenant-max-codes",
        type=_positive,
        default=_env("TENANT_MAX_CODES", "1000000"),
        metavar="N",
        help="refuse writes that would take one tenant over N stored codes (CODESTAND_TENANT_MAX_CODES; default 1000000)",
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    serve.add_argument(
        "--journal-size",
        type=_count,
        default=_env("JOURNAL_SIZE", "1000"),
        metavar="N",
        help="vendor requests the journal keeps; 0 keeps none (CODESTAND_JOURNAL_SIZE; default 1000)",
    )
    serve.add_argument(
        "--fault-seed",
        type=_seed_number,
        default=_env("FAULT_SEED"),
        metavar="N",
        help="seed for fault rules' random draws, for repeatable runs (CODESTAND_FAULT_SEED)",
    )
    serve.add_argument(
        "--rate-limits",
        choices=("off", "vendor"),
        default=_env("RATE_LIMITS", "off"),
        help="off: limits are counted and reported but never refuse; vendor: the vendors' documented limits answer 429 (CODESTAND_RATE_LIMITS; default off)",
    )
    serve.add_argument(
        "--ti-keys",
        type=_keys_file,
        default=_env("TI_KEYS"),
        metavar="FILE",
        help="YAML of Thought Industries keys, each naming its instance, role and plan (CODESTAND_TI_KEYS)",
    )
    return top


def settings_from(args: argparse.Namespace) -> Settings:
    # argparse checks `choices` of a given flag, not of a default taken from the environment.
    if args.rate_limits not in ("off", "vendor"):
        raise SystemExit(f"codestand: CODESTAND_RATE_LIMITS must be off or vendor, not {args.rate_limits!r}")
    keys = args.ti_api_key if args.ti_api_key is not None else _env_list("TI_API_KEYS")
    try:
        clients = args.moltin_client if args.moltin_client is not None else [_client(c) for c in _env_list("MOLTIN_CLIENTS")]
    except argparse.ArgumentTypeError as exc:
        raise SystemExit(f"codestand: CODESTAND_MOLTIN_CLIENTS: {exc}")
    return Settings(
        host=args.host,
        port=int(args.port),
        storage=args.storage,
        workers=int(args.workers),
        db_pool_size=int(args.db_pool_size),
        db_timeout=float(args.db_timeout),
        log_format=args.log_format,
        seed=args.seed if args.seed is None else Path(args.seed),
        strict_catalog=args.strict_catalog,
        ti_api_keys=tuple(keys),
        moltin_clients=tuple(clients),
        admin_token=args.admin_token or None,
        access_log=not args.quiet,
        journal_size=int(args.journal_size),
        fault_seed=None if args.fault_seed is None else int(args.fault_seed),
        cors_origins=tuple(args.cors_origin if args.cors_origin is not None else _env_list("CORS_ORIGINS")),
        rate_limits=args.rate_limits,
        ti_keys=args.ti_keys if args.ti_keys is None else Path(args.ti_keys),
        allowed_hosts=tuple(args.allowed_host if args.allowed_host is not None else _env_list("ALLOWED_HOSTS")),
        insecure_no_admin_token=args.insecure_no_admin_token,
        tenant_ttl_seconds=None if args.tenant_ttl is None else float(args.tenant_ttl),
        max_tenants=None if args.max_tenants is None else int(args.max_tenants),
        tenant_max_codes=int(args.tenant_max_codes),
    )


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve the network without an admin token, unless told so in as many words.

    Off loopback, anyone who reaches the port could read every tenant's codes and snapshots,
    overwrite a tenant, reset the server, move the clock or drop every request.
    """
    if is_loopback(settings.host) or settings.admin_token:
        return
    if not settings.insecure_no_admin_token:
        raise SystemExit(
            f"codestand: --host {settings.host} can be reached from the network, and then anyone who reaches it "
            "can read and change every tenant through the control plane. Give --admin-token TOKEN "
            "(CODESTAND_ADMIN_TOKEN), or --insecure-no-admin-token on a network you trust"
        )
    logging.getLogger("codestand").warning(
        "INSECURE: serving %s without --admin-token; anyone who can reach this port can read and change "
        "every tenant, reset the server and inject faults",
        settings.host,
    )


def bind(host: str, port: int, *, for_workers: bool = False) -> socket.socket:
    """Bind before starting the server, so a taken port is reported plainly.

    For workers that each listen on a socket of their own (`workers.own_listeners`) this one
    only holds the port, bound with SO_REUSEPORT as theirs will be, and does not listen: a
    listening socket that nobody accepts on would be handed its share of the connections.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holds_port = for_workers and own_listeners()
    if holds_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(f"codestand: port {port} on {host} is already in use; choose another with --port")
        raise SystemExit(f"codestand: cannot listen on {host}:{port}: {exc.strerror}")
    if not holds_port:
        sock.listen(BACKLOG)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, but SIGINT and SIGTERM end it with exit status 0.

    uvicorn finishes in-flight requests on either signal and then raises the signal again,
    which kills the process with a signal status; a stand-in told to stop has not failed.
    """

    @contextlib.contextmanager
    def capture_signals(self):
        def stop(signum, frame):
            self.force_exit = self.should_exit  # a second signal: stop at once
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(settings: Settings) -> int:
    # Connexion imports Starlette's test client, which warns about httpx on every start.
    warnings.filterwarnings("ignore", module="connexion.apps.abstract")
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

    if settings.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Before prometheus-client is imported: the workers (spawned, inheriting the
        # environment) count into files there, and a scrape adds all of them up.
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="codestand-metrics-")
        atexit.register(shutil.rmtree, folder, True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder

    from codestand import logs
    from codestand.app import create_app
    from codestand.thoughtindustries.catalog import SeedError
    from codestand.thoughtindustries.keys import KeysError

    if settings.workers > 1 and not shared_between_processes(settings.storage):
        raise SystemExit(
            f"codestand: --workers {settings.workers} needs a store the workers share: with --storage "
            f"{settings.storage} each worker would have its own memory, and a group created through one "
            "worker would be unknown to the others. Use --storage sqlite:PATH or --storage postgresql://..."
        )
    logs.configure(settings.log_format)
    check_exposure(settings)
    # Connexion's own start-up chatter ("Adding spec json") is not ours to print.
    logging.getLogger("connexion").setLevel(logging.WARNING)
    try:
        # Also for several workers: the parent opens (creates, upgrades) the store once, so a
        # bad file or seed is reported here, plainly, before any worker starts.
        app = create_app(settings)
    except (SeedError, KeysError, StorageError) as exc:
        raise SystemExit(f"codestand: {exc}")
    # What the app built (parsed contracts, validators, routes) lives as long as the process:
    # keep it out of every garbage collection (a full one took 15 ms, a p99 spike). Requests
    # free their objects by reference counting, not cycles: collect young objects rarely.
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
    sock = bind(settings.host, settings.port, for_workers=settings.workers > 1)
    host, port = sock.getsockname()[:2]
    logging.getLogger("codestand").info("serving on http://%s:%d (storage: %s)", host, port, shown(settings.storage))
    if settings.workers > 1:
        from codestand.workers import serve_workers

        app.codestand.store.close()  # type: ignore[attr-defined]
        return serve_workers(settings, sock)
    config = uvicorn.Config(app, access_log=False, log_level="warning", lifespan="off", timeout_keep_alive=KEEP_ALIVE_SECONDS)
    _Server(config).run(sockets=[sock])
    logging.getLogger("codestand").info("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(settings_from(args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
