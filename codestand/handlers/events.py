"""`GET /incoming/v2/events/redemptionCodeRedeem`: the vendor's feed of learner redemptions."""

from __future__ import annotations

from datetime import date, datetime, timezone

from codestand.context import current
from codestand.domain import redemptions
from codestand.domain.clock import iso_millis, parse_datetime
from codestand.errors import InvalidRequest, Problem


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
        start=_instant(startDate, "startDate"),
        end=_instant(endDate, "endDate"),
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


def _instant(value: str | None, field: str) -> datetime | None:
    """A bare date is its midnight UTC; a date-time without an offset is UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        moment = parse_datetime(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidRequest(Problem("format", field, {"format": "date|date-time"})) from None
