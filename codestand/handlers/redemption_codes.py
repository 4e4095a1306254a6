"""Thought Industries redemption code groups (`/incoming/v2/redemptionCodes`)."""

from __future__ import annotations

import json

from starlette.responses import Response

from codestand.context import current
from codestand.domain import redemption_groups
from codestand.domain.models import CatalogItem, RedemptionGroup


async def create_group(body: dict, user: str) -> tuple[dict, int]:
    s = current()
    group = redemption_groups.create(s.store, s.clock, s.seed, user, body, strict_catalog=s.settings.strict_catalog)
    return vendor_group(group), 201


async def get_group(id: str, user: str) -> dict:
    group = redemption_groups.get(current().store, user, id)
    return vendor_group(group, listed=True)


async def list_groups(user: str, cursor: str | None = None, query: str | None = None, sort: str | None = None) -> Response:
    page, next_cursor = redemption_groups.list_page(current().store, user, cursor=cursor, query=query, sort=sort)
    page_info = {"total": page.total, "hasMore": next_cursor is not None, "cursor": next_cursor}
    # The bytes `json.dumps` would give the whole page (and Connexion its newline), with each
    # group's JSON made once: encoding 50 groups anew was most of a list request's time.
    groups = ", ".join(_listed_json(g) for g in page.items)
    text = f'{{"redemptionCodeGroups": [{groups}], "pageInfo": {json.dumps(page_info)}}}\n'
    return Response(text, media_type="application/json")


_listed: dict[int, tuple[RedemptionGroup, str]] = {}


def _listed_json(group: RedemptionGroup) -> str:
    """`json.dumps(vendor_group(group, listed=True))`, remembered per group record.

    Records are immutable (a redemption replaces the group's record), so a record's JSON never
    changes; the cache holds the record itself, so its id cannot be reused while cached.
    """
    hit = _listed.get(id(group))
    if hit is not None and hit[0] is group:
        return hit[1]
    text = json.dumps(vendor_group(group, listed=True))
    if len(_listed) >= 10_000:
        _listed.clear()
    _listed[id(group)] = (group, text)
    return text


def vendor_group(group: RedemptionGroup, listed: bool = False) -> dict:
    """The group object in the vendor page's field order; get and list add `uploaded`, `gift`."""
    body = {
        "id": group.id,
        "label": group.label,
        "redeemedCodesCount": group.redeemed_codes,
        "totalCodesCount": group.total_codes,
        "expirationDate": group.expiration_date,
        "accessDays": group.access_days,
        "accessExpirationDate": group.access_expiration_date,
        "client": _named(group.client) if group.client else None,
        "courses": [{"id": c.id, "title": c.name} for c in group.courses],
        "learningPaths": [_named(i) for i in group.learning_paths],
        "bundles": [_named(i) for i in group.bundles],
        "licenses": [_named(i) for i in group.licenses],
    }
    if listed:
        # Generated groups: codes were not uploaded, and none is a gift.
        body["uploaded"] = False
        body["gift"] = False
    return body


def _named(item: CatalogItem) -> dict:
    return {"id": item.id, "name": item.name}
