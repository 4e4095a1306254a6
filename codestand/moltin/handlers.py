"""Moltin's routes: the token endpoint, promotions and their codes."""

from __future__ import annotations

import math

from connexion import request
from starlette.responses import Response

from codestand.context import current, current_request
from codestand.core import tenants
from codestand.moltin import promotion_codes, promotions, shapes, tokens


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


# Codes of a Moltin promotion (`/v2/promotions/{id}/codes`).

async def add_codes(id: str, body: dict, user: str) -> tuple[dict, int]:
    s = current()
    promotion = promotion_codes.add(s.store, s.clock, user, id, body["data"]["codes"], max_codes=s.settings.tenant_max_codes)
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


# `POST /oauth/access_token`: Moltin's token endpoint.

async def access_token(body: dict) -> dict:
    s = current()
    token = tokens.issue(
        s.store,
        s.clock,
        dict(s.settings.moltin_clients),
        grant=body["grant_type"],
        client_id=body["client_id"],
        client_secret=body.get("client_secret"),
    )
    # This route authenticates the client by its form, not by a security scheme: name the
    # tenant as security names it elsewhere, for the request journal.
    request.context["user"] = tenants.moltin(token.tenant)
    s.tenants.use(request.context["user"])
    return {
        "access_token": token.token,
        "token_type": "Bearer",
        # Epoch seconds; the JS SDK re-authenticates once `now >= expires` [doc].
        "expires": math.floor(token.expires_at.timestamp()),
        "expires_in": int(tokens.LIFETIME.total_seconds()),
        "identifier": token.grant,
    }
