"""State behind one interface (`base.Storage`), in memory or in a file."""

from codestand.storage.base import CodesTaken, QuotaExceeded, Storage


def open_storage(spec: str) -> Storage:
    """`memory` is the only backend so far; the name leaves room for `sqlite:PATH`."""
    if spec == "memory":
        from codestand.storage.memory import MemoryStorage

        return MemoryStorage()
    raise ValueError(f"unknown storage {spec!r}: use 'memory'")


__all__ = ["CodesTaken", "QuotaExceeded", "Storage", "open_storage"]
