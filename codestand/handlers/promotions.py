"""Moltin promotions (`/v2/promotions`)."""

from __future__ import annotations

from codestand.context import current, current_request
from codestand.domain import promotions
from codestand.handlers import moltin_shapes as shapes


async def create_promotion(body: dict, user: str) -> tuple[dict, int]:
    s = current()
    created = promotions.create(s.store, s.clock, user, body["data"])
    return {"data": shapes.promotion(created)}, 201


async def list_promotions(user: str, filter: str | None = None) -> dict:
    request = current_request()
    limit, offset = shapes.paging(request)
    page = promotions.list_page(current().store, user, offset=offset, limit=limit, code_filter=filter)
    return shapes.envelope(request, page, [shapes.promotion(p) for p in page.items], limit=limit, offset=offset)


async def get_promotion(id: str, user: str) -> dict:
    return {"data": shapes.promotion(promotions.get(current().store, user, id))}


async def update_promotion(id: str, body: dict, user: str) -> dict:
    s = current()
    return {"data": shapes.promotion(promotions.update(s.store, s.clock, user, id, body["data"]))}


async def delete_promotion(id: str, user: str) -> tuple[None, int]:
    promotions.delete(current().store, user, id)
    return None, 204
