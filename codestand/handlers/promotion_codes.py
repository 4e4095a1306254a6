"""Codes of a Moltin promotion (`/v2/promotions/{id}/codes`)."""

from __future__ import annotations

from starlette.responses import Response

from codestand.context import current, current_request
from codestand.domain import promotion_codes
from codestand.handlers import moltin_shapes as shapes


async def add_codes(id: str, body: dict, user: str) -> tuple[dict, int]:
    s = current()
    promotion = promotion_codes.add(s.store, s.clock, user, id, body["data"]["codes"])
    # The vendor answers 201 with the promotion, not the codes [doc].
    return {"data": shapes.promotion(promotion)}, 201


async def list_codes(id: str, user: str) -> Response:
    request = current_request()
    limit, offset = shapes.paging(request)
    page = promotion_codes.list_page(current().store, user, id, offset=offset, limit=limit)
    return shapes.envelope_response(request, page, [shapes.code_json(c) for c in page.items], limit=limit, offset=offset)


async def delete_codes(id: str, body: dict, user: str) -> tuple[None, int]:
    promotion_codes.delete(current().store, user, id, [c["code"] for c in body["data"]["codes"]])
    return None, 204


async def delete_code(id: str, code: str, user: str) -> tuple[None, int]:
    promotion_codes.delete_one(current().store, user, id, code)
    return None, 204
