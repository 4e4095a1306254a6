"""Thought Industries' routes: redemption code groups, the redemption event feed, ping."""

from __future__ import annotations

import json

from starlette.responses import Response

from codestand.context import current
from codestand.core.clock import iso_millis
from codestand.core.models import CatalogItem, RedemptionGroup
from codestand.thoughtindustries import groups, redemptions


async def create_group(body: dict, user: str) -> tuple[dict, int]:
    s = current()
    group = groups.create(
        s.store, s.clock, s.seed, user, body, strict_catalog=s.settings.strict_catalog, max_codes=s.settings.tenant_max_codes
    )
    return vendor_group(group), 201


async def get_group(id: str, user: str) -> dict:
    group = groups.get(current().store, user, id)
    return vendor_group(group, listed=True)


async def list_groups(user: str, cursor: str | None = None, query: str | None = None, sort: str | None = None) -> Response:
    page, next_cursor = groups.list_page(current().store, user, cursor=cursor, query=query, sort=sort)
    page_info = {"total": page.total, "hasMore": next_cursor is not None, "cursor": next_cursor}
    # The bytes `json.dumps` would give the whole page (and Connexion its newline), with each
    # group's JSON made once: encoding 50 groups anew was most of a list request's time.
    listed = ", ".join(_listed_json(g) for g in page.items)
    text = f'{{"redemptionCodeGroups": [{listed}], "pageInfo": {json.dumps(page_info)}}}\n'
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
    """The group object in the vendor pages' field order. Get and list (vendor pages "Get
    Redemption Code Group", "List Redemption Code Groups") put `uploaded` and `gift` after
    `accessExpirationDate`; the create page's response has neither."""
    body = {
        "id": group.id,
        "label": group.label,
        "redeemedCodesCount": group.redeemed_codes,
        "totalCodesCount": group.total_codes,
        "expirationDate": group.expiration_date,
        "accessDays": group.access_days,
        "accessExpirationDate": group.access_expiration_date,
    }
    if listed:
        body["uploaded"] = group.uploaded
        body["gift"] = group.gift
    body["client"] = _named(group.client) if group.client else None
    body["courses"] = [{"id": c.id, "title": c.name} for c in group.courses]
    body["learningPaths"] = [_named(i) for i in group.learning_paths]
    body["bundles"] = [_named(i) for i in group.bundles]
    body["licenses"] = [_named(i) for i in group.licenses]
    return body


def _named(item: CatalogItem) -> dict:
    return {"id": item.id, "name": item.name}


# `GET /incoming/v2/events/redemptionCodeRedeem`: the vendor's feed of learner redemptions.

async def redemption_code_redeem(
    user: str,
    kind: str | None = None,
    cursor: str | None = None,
    startDate: str | None = None,
    endDate: str | None = None,
    userId: str | None = None,
    notifiableId: str | None = None,
) -> dict:
    page, next_cursor = redemptions.events_page(
        current().store,
        user,
        cursor=cursor,
        start=None if startDate is None else redemptions.query_instant(startDate, "startDate", end=False),
        end=None if endDate is None else redemptions.query_instant(endDate, "endDate", end=True),
        kind=kind,
        # A UUID in any case names the same user or group; they are kept in lower case.
        user_id=userId and userId.lower(),
        group_id=notifiableId and notifiableId.lower(),
    )
    return {
        "data": {
            "APIEvents": {
                "pageInfo": {
                    "perPage": redemptions.EVENTS_PER_PAGE,
                    "cursor": next_cursor,
                    "total": page.total,
                    "hasMore": next_cursor is not None,
                },
                "events": [
                    {
                        "id": e.id,
                        "type": "redemptionCodeRedeem",
                        "timestamp": iso_millis(e.occurred_at),
                        "userId": e.user_id,
                        "notifiableId": e.group_id,
                        "notifiableType": "redemptionCodeGroup",
                        "redemptionCode": e.code,
                    }
                    for e in page.items
                ],
            }
        }
    }


# `GET /incoming/v2/ping`: the vendor's credential check.

async def ping(user: str) -> dict:
    # Reaching here means the security scheme accepted the key.
    return {"valid": True}
