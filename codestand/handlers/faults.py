"""`/__codestand/faults`: rules that make vendor routes slow, fail or hang up."""

from __future__ import annotations

from codestand.context import current
from codestand.errors import NotFound, Problem


async def list_faults() -> dict:
    return {"faults": [rule.to_json() for rule in current().faults.rules()]}


async def add_fault(body: dict) -> tuple[dict, int]:
    return current().faults.add(body).to_json(), 201


async def clear_faults() -> tuple[None, int]:
    current().faults.clear()
    return None, 204


async def remove_fault(id: str) -> tuple[None, int]:
    if not current().faults.remove(id):
        raise NotFound(Problem("fault_not_found"))
    return None, 204
