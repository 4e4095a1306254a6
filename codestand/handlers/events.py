"""`GET /incoming/v2/events/redemptionCodeRedeem`: the vendor's feed of learner redemptions."""

from __future__ import annotations

from codestand.context import current
from codestand.domain import redemptions
from codestand.domain.clock import instant, iso_millis


async def redemption_code_redeem(
    user: str,
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
        start=None if startDate is None else instant(startDate, "startDate"),
        end=None if endDate is None else instant(endDate, "endDate"),
        user_id=userId,
        group_id=notifiableId,
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
