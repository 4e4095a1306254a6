"""Thought Industries redemption code groups (`/incoming/v2/redemptionCodes`)."""

from __future__ import annotations

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


async def list_groups(user: str, cursor: str | None = None, query: str | None = None, sort: str | None = None) -> dict:
    page, next_cursor = redemption_groups.list_page(current().store, user, cursor=cursor, query=query, sort=sort)
    return {
        "redemptionCodeGroups": [vendor_group(g, listed=True) for g in page.items],
        "pageInfo": {"total": page.total, "hasMore": next_cursor is not None, "cursor": next_cursor},
    }


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
