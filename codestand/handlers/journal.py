"""`/__codestand/journal`: the vendor requests the stand-in answered, newest first."""

from __future__ import annotations

from codestand.context import current


async def list_entries(
    path: str | None = None,
    method: str | None = None,
    status: str | None = None,
    tenant: str | None = None,
    limit: int | None = None,
) -> dict:
    entries = current().journal.entries(path=path, method=method, status=status, tenant=tenant, limit=limit)
    return {"entries": entries}


async def clear() -> tuple[None, int]:
    current().journal.clear()
    return None, 204
