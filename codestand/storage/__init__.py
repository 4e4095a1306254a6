"""State behind one interface (`base.Storage`), in memory or in a file."""

from pathlib import Path

from codestand.storage.base import (
    CodesTaken,
    QuotaExceeded,
    Storage,
    StorageError,
    StorageUnavailable,
)

SPECS = "'memory' or 'sqlite:PATH'"


def check_spec(spec: str) -> str:
    """`spec` if it names a storage, else ValueError saying what would (for the command line)."""
    kind, _, path = spec.partition(":")
    if spec == "memory" or (kind == "sqlite" and path):
        return spec
    raise ValueError(f"{spec!r} is not a storage: use {SPECS}")


def shared_between_processes(spec: str) -> bool:
    """Whether several worker processes opening `spec` see one and the same state."""
    return check_spec(spec) != "memory"


def open_storage(spec: str) -> Storage:
    """The store `spec` names; `StorageError` if it cannot be opened as asked."""
    kind, _, path = check_spec(spec).partition(":")
    if kind == "sqlite":
        from codestand.storage.sqlite import SqliteStorage

        return SqliteStorage(Path(path))
    from codestand.storage.memory import MemoryStorage

    return MemoryStorage()


__all__ = [
    "CodesTaken",
    "QuotaExceeded",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "check_spec",
    "open_storage",
    "shared_between_processes",
]
