"""Moltin's JSON for promotions, codes and paginated lists."""

from __future__ import annotations

import json
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from codestand.core.clock import iso_millis
from codestand.core.models import Page, Promotion, PromotionCode, PromotionJob, PromotionUsage

DEFAULT_LIMIT = 25  # page[limit] default; at most 100 (current/pagination.md) [doc]


def promotion(p: Promotion) -> dict:
    """The promotion object in the vendor page's field order; optional fields only when set.

    `automatic` is always there (the vendor's schema requires it; false unless set), and the
    timestamps are both at the top level (the Moltin-era page) and in `meta.timestamps`
    (both SDKs' types).
    """
    created, updated = iso_millis(p.created_at), iso_millis(p.updated_at)
    body = {
        "type": "promotion",
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "enabled": p.enabled,
        "automatic": bool(p.automatic),
        "promotion_type": p.promotion_type,
        "schema": p.schema,
        "start": rfc3339(p.start),
        "end": rfc3339(p.end),
        **p.extras,
    }
    if p.created_by is not None:
        body["created_by"] = p.created_by
    if p.updated_by is not None:
        body["updated_by"] = p.updated_by
    body.update(created_at=created, updated_at=updated, meta={"timestamps": {"created_at": created, "updated_at": updated}})
    return body


# `GET /v2/promotions/attributes`: the promotion object's fields, in the shape both SDKs type as
# `Attributes` ({data: [{label, value, type, required, options?}], meta: {entity, version}}).
# The vendor documents no body for it; the fields and their types are its promotion schema's.
_TYPES = ["fixed_discount", "percent_discount", "item_fixed_discount", "item_percent_discount",
          "x_for_y", "x_for_amount", "bundle_fixed_discount", "bundle_gift"]
ATTRIBUTES = {
    "data": [
        {"label": label, "value": value, "type": kind, "required": required, **({"options": options} if options else {})}
        for label, value, kind, required, options in (
            ("ID", "id", "string", False, None),
            ("Type", "type", "string", True, ["promotion"]),
            ("Name", "name", "string", True, None),
            ("Description", "description", "string", True, None),
            ("Enabled", "enabled", "boolean", True, None),
            ("Automatic", "automatic", "boolean", False, None),
            ("Promotion Type", "promotion_type", "string", True, _TYPES),
            ("Schema", "schema", "object", True, None),
            ("Start", "start", "string", True, None),
            ("End", "end", "string", True, None),
            ("Min Cart Value", "min_cart_value", "array", False, None),
            ("Max Discount Value", "max_discount_value", "array", False, None),
            ("Max Applications Per Cart", "max_applications_per_cart", "integer", False, None),
        )
    ],
    "meta": {"entity": "promotion", "version": "1.0.0"},
}


def code(c: PromotionCode) -> dict:
    body: dict = {"code": c.code}
    if c.uses is not None:
        body["uses"] = c.uses_left  # uses left; absent means unlimited [doc]
        body["max_uses"] = c.uses
    if c.user is not None:
        body["user"] = list(c.user) if isinstance(c.user, tuple) else c.user
    body["consume_unit"] = c.consume_unit
    if c.created_by is not None:
        body["created_by"] = c.created_by
    if c.created_at is not None:
        body["meta"] = {"timestamps": {"created_at": iso_millis(c.created_at)}}
    return body


def job(j: PromotionJob) -> dict:
    """The vendor's promotion job; `parameters` and `result` only for `code_generate` [doc]."""
    body: dict = {"type": "promotion_job", "id": j.id, "promotion_id": j.promotion_id, "job_type": j.job_type}
    if j.name is not None:
        body["name"] = j.name
    if j.job_type == "code_generate":
        body["parameters"] = j.parameters
    body["status"] = j.status
    if j.job_type == "code_generate" and j.result is not None:
        body["result"] = j.result
    if j.error is not None:
        body["error"] = j.error
    body["meta"] = {"timestamps": {"created_at": iso_millis(j.created_at), "updated_at": iso_millis(j.updated_at)}}
    return body


def usage(u: PromotionUsage) -> dict:
    """A usage as the vendor's usages pages show it (its `cusomter_id` typo spelled right)."""
    body: dict = {"id": u.id, "order_id": u.order_id, "code_id": u.code_id, "code": u.code, "times_used": u.times_used,
                  "used_on": iso_millis(u.used_on), "customer_id": u.customer_id, "customer_email": u.customer_email,
                  "meta": {"timestamps": {"updated_at": iso_millis(u.updated_at)}}}  # fmt: skip
    if u.updated_by is not None:
        body["updated_by"] = u.updated_by
    body["anonymized"] = u.anonymized
    return body


_code_json: dict[int, tuple[PromotionCode, str]] = {}


def code_json(c: PromotionCode) -> str:
    """`json.dumps(code(c))`, remembered per code record (records are immutable: a use replaces
    the record); the cache holds the record, so its id cannot be reused while cached."""
    hit = _code_json.get(id(c))
    if hit is not None and hit[0] is c:
        return hit[1]
    text = json.dumps(code(c))
    if len(_code_json) >= 10_000:
        _code_json.clear()
    _code_json[id(c)] = (c, text)
    return text


def rfc3339(moment: datetime) -> str:
    """`2017-11-13T00:00:00Z`, as the vendor returns `start` and `end` [doc]."""
    text = iso_millis(moment)
    return text if text[-5:] != ".000Z" else text[:-5] + "Z"


def paging(request: Request) -> tuple[int, int]:
    """`page[limit]` and `page[offset]`, already checked against the spec."""
    if not request.scope.get("query_string"):  # most calls: no need to parse the query
        return DEFAULT_LIMIT, 0
    limit = request.query_params.get("page[limit]")
    offset = request.query_params.get("page[offset]")
    return (int(limit) if limit else DEFAULT_LIMIT), (int(offset) if offset else 0)


def envelope(request: Request, page: Page, data: list[dict], *, limit: int, offset: int) -> dict:
    """`{data, links, meta}`; links are full URLs on the host the client called [doc]."""
    extra = (
        "".join(f"&{k}={v}" for k, v in request.query_params.items() if not k.startswith("page["))
        if request.scope.get("query_string")
        else ""
    )
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"

    def link(at: int) -> str:
        return f"{base}?page[limit]={limit}&page[offset]={at}{extra}"

    last = ((page.total - 1) // limit) * limit if page.total else 0
    return {
        "data": data,
        "links": {
            "current": link(offset),
            "first": link(0),
            "last": link(last),
            "prev": link(max(offset - limit, 0)) if offset > 0 else None,
            "next": link(offset + limit) if offset + limit < page.total else None,
        },
        "meta": {
            "page": {
                "limit": limit,
                "offset": offset,
                "current": offset // limit + 1,
                "total": -(-page.total // limit),
            },
            "results": {"total": page.total},
        },
    }


def envelope_response(request: Request, page: Page, data_json: list[str], *, limit: int, offset: int) -> Response:
    """`envelope` with its data already JSON, as the bytes Connexion would send for the whole."""
    rest = envelope(request, page, [], limit=limit, offset=offset)
    text = f'{{"data": [{", ".join(data_json)}], "links": {json.dumps(rest["links"])}, "meta": {json.dumps(rest["meta"])}}}\n'
    return Response(text, media_type="application/json")
