"""Moltin's routes: the token endpoint, promotions and their codes."""

from __future__ import annotations

import math

from connexion import request
from starlette.responses import Response

from codestand.context import current, current_request
from codestand.core import tenants
from codestand.moltin import jobs, promotion_codes, promotions, shapes, tokens, usages


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


async def promotion_history(id: str, user: str) -> dict:
    request = current_request()
    limit, offset = shapes.paging(request)
    page = promotions.history(current().store, user, id, offset=offset, limit=limit)
    return shapes.envelope(request, page, [shapes.promotion(p) for p in page.items], limit=limit, offset=offset)


async def promotion_attributes(user: str) -> dict:
    return shapes.ATTRIBUTES


# Codes of a Moltin promotion (`/v2/promotions/{id}/codes`).

async def add_codes(id: str, body: dict, user: str) -> tuple[dict, int]:
    s = current()
    data = body["data"]
    promotion = promotion_codes.add(
        s.store, s.clock, user, id, data["codes"], data.get("consume_unit", "per_cart"), max_codes=s.settings.tenant_max_codes
    )
    # The vendor answers 201 with the promotion, not the codes [doc].
    return {"data": shapes.promotion(promotion)}, 201


async def list_codes(id: str, user: str, filter: str | None = None) -> Response:
    request = current_request()
    limit, offset = shapes.paging(request)
    page = promotion_codes.list_page(current().store, user, id, offset=offset, limit=limit, filter=filter)
    return shapes.envelope_response(request, page, [shapes.code_json(c) for c in page.items], limit=limit, offset=offset)


async def delete_codes(id: str, body: dict, user: str) -> tuple[None, int]:
    promotion_codes.delete(current().store, user, id, [c["code"] for c in body["data"]["codes"]])
    return None, 204


async def delete_code(id: str, code: str, user: str) -> tuple[None, int]:
    promotion_codes.delete_one(current().store, user, id, code)
    return None, 204


# Jobs of a Moltin promotion (`/v2/promotions/{id}/jobs`).

async def create_job(id: str, body: dict, user: str) -> tuple[dict, int]:
    s = current()
    # The vendor's document sends the job bare; both SDKs wrap every body in `data`.
    job = jobs.create(s.store, s.clock, user, id, body.get("data", body))
    return {"data": shapes.job(job)}, 201


async def list_jobs(id: str, user: str, filter: str | None = None) -> dict:
    request, s = current_request(), current()
    limit, offset = shapes.paging(request)
    page = jobs.list_page(s.store, s.clock, user, id, offset=offset, limit=limit, filter=filter)
    return shapes.envelope(request, page, [shapes.job(j) for j in page.items], limit=limit, offset=offset)


async def cancel_job(id: str, jobId: str, user: str) -> dict:
    s = current()
    return {"data": shapes.job(jobs.cancel(s.store, s.clock, user, id, jobId))}


async def job_file(id: str, jobId: str, user: str) -> dict:
    s, request = current(), current_request()
    jobs.export_file(s.store, s.clock, user, id, jobId)
    # The vendor answers a link to its file storage; the stand-in serves the file itself.
    return {"href": f"{request.url.scheme}://{request.url.netloc}/v2/promotions/{id}/jobs/{jobId}/codes.csv"}


async def job_file_csv(id: str, jobId: str, user: str) -> Response:
    s = current()
    text = jobs.export_file(s.store, s.clock, user, id, jobId)
    return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{jobId}.csv"'})


# Usages of a promotion's codes (fed by the control plane's shopper code uses).

async def list_usages(id: str, user: str, filter: str | None = None, sort: str | None = None) -> dict:
    return _usages(id, user, None, filter, sort)


async def list_code_usages(id: str, code: str, user: str, filter: str | None = None, sort: str | None = None) -> dict:
    return _usages(id, user, code, filter, sort)


def _usages(id: str, user: str, code: str | None, filter: str | None, sort: str | None) -> dict:
    request = current_request()
    limit, offset = shapes.paging(request)
    page = usages.list_page(current().store, user, id, code=code, filter=filter, sort=sort, offset=offset, limit=limit)
    return shapes.envelope(request, page, [shapes.usage(u) for u in page.items], limit=limit, offset=offset)


async def anonymize_usages(body: dict, user: str) -> dict:
    s = current()
    done, missing = usages.anonymize(s.store, s.clock, user, body["data"]["usage_ids"])
    answer: dict = {"data": [shapes.usage(u) for u in done]}
    if missing:
        # As the vendor's page shows it: a 200 with the rest named in `errors` [doc].
        answer["errors"] = [{"status": "404", "title": "Could not anonymize some usages", "detail": "Usages not found.",
                             "meta": {"usage_ids": missing}}]  # fmt: skip
    return answer


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
