"""State behind one interface (`base.Storage`): in memory, in a SQLite file, or in PostgreSQL."""

from pathlib import Path

from codestand.storage.base import (
    CodesTaken,
    QuotaExceeded,
    Storage,
    StorageError,
    StorageUnavailable,
)

SPECS = "'memory', 'sqlite:PATH' or 'postgresql://USER:PASSWORD@HOST:PORT/DB'"
_POSTGRESQL = ("postgresql://", "postgres://")
# Records stored between two `gc.freeze()` calls of the memory store.
FREEZE_EVERY = 10_000


def check_spec(spec: str) -> str:
    """`spec` if it names a storage, else ValueError saying what would (for the command line)."""
    kind, _, path = spec.partition(":")
    if spec == "memory" or (kind == "sqlite" and path) or (spec.startswith(_POSTGRESQL) and len(spec.partition("//")[2]) > 0):
        return spec
    raise ValueError(f"{spec!r} is not a storage: use {SPECS}")


def shared_between_processes(spec: str) -> bool:
    """Whether several worker processes opening `spec` see one and the same state."""
    return check_spec(spec) != "memory"


def shown(spec: str) -> str:
    """`spec` as it may be printed or logged: a PostgreSQL password replaced by `***`."""
    if spec.startswith(_POSTGRESQL):
        from codestand.storage.postgresql import shown as without_password

        return without_password(spec)
    return spec


def open_storage(spec: str, *, workers: int = 1, pool_size: int | None = None, timeout: float | None = None) -> Storage:
    """The store `spec` names; `StorageError` if it cannot be opened as asked.

    `workers`: how many processes will share it (a SQLite file shared by several keeps the
    control plane's state too, as PostgreSQL always does).
    """
    check_spec(spec)
    if spec.startswith(_POSTGRESQL):
        from codestand.storage import postgresql

        return postgresql.PostgresStorage(
            spec,
            pool_size=pool_size or postgresql.POOL_SIZE,
            timeout=timeout or postgresql.TIMEOUT_SECONDS,
        )
    kind, _, path = spec.partition(":")
    if kind == "sqlite":
        from codestand.storage.sqlite import SqliteStorage

        return SqliteStorage(Path(path), shared=workers > 1)
    from codestand.storage.memory import MemoryStorage

    # A server's store: its records kept out of the collector's full passes (see `_stored`).
    return MemoryStorage(freeze_every=FREEZE_EVERY)


__all__ = [
    "CodesTaken",
    "QuotaExceeded",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "check_spec",
    "open_storage",
    "shared_between_processes",
    "shown",
]
