"""A learner redeeming a Thought Industries code, and the vendor's event feed of redemptions.

The vendor's learners redeem on the learning site (`/redeem/<code>`), which its REST API does not
offer; the control plane plays the learner. Each redemption raises `redeemedCodesCount` and shows
up in `GET /incoming/v2/events/redemptionCodeRedeem`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from codestand.core.clock import Clock, instant, parse_datetime
from codestand.core.errors import Conflict, NotFound, Problem, RuleViolation
from codestand.core.models import Page, RedemptionEvent, RedemptionGroup
from codestand.storage.base import AlreadyUsed, Storage
from codestand.thoughtindustries import cursors

EVENTS_PER_PAGE = 50
# The feed's one kind of event (its name and the `type` of each event).
KIND = "redemptionCodeRedeem"


def redeem(store: Storage, clock: Clock, tenant: str, code: str, user_id: str) -> tuple[RedemptionGroup, RedemptionEvent]:
    # Generated codes are lowercase; a learner typing them in capitals means the same code.
    code = code.strip().lower()
    found = store.find_code(tenant, code)
    if found is None:
        raise NotFound(Problem("unknown_code", "code", {"code": code}))
    group_id, redeemed = found
    if redeemed:
        raise Conflict(Problem("code_already_redeemed", "code", {"code": code}))
    # Whole milliseconds, as the feed shows and its cursors and dates count: an event is then
    # exactly at the instant a client reads in it.
    now = clock.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    group = store.get_group(tenant, group_id)
    if group is not None and group.expiration_date and now >= parse_datetime(group.expiration_date):
        raise RuleViolation(Problem("code_expired", "code", {"code": code, "expired": group.expiration_date}))
    event = RedemptionEvent(id=str(uuid.uuid4()), code=code, group_id=group_id, user_id=user_id, occurred_at=now)
    try:
        return store.redeem_code(tenant, event), event
    except AlreadyUsed:
        raise Conflict(Problem("code_already_redeemed", "code", {"code": code})) from None


def events_page(
    store: Storage,
    tenant: str,
    *,
    cursor: str | None,
    start: datetime | None,
    end: datetime | None,
    kind: str | None,
    user_id: str | None,
    group_id: str | None,
) -> tuple[Page, str | None]:
    """Events with `start <= occurred_at <= end` ("on or after", "on or before": vendor page
    "List redemptionCodeRedeem"), oldest first, 50 a page, and the next page's cursor."""
    after = cursors.event_position(cursor) if cursor else None
    if kind is not None and kind != KIND:
        # A filter by a kind this feed has no events of (what the vendor does is not documented).
        return Page(), None
    page = store.event_page(
        tenant, after=after, limit=EVENTS_PER_PAGE + 1, start=start, end=end, user_id=user_id, group_id=group_id
    )
    items, more = page.items[:EVENTS_PER_PAGE], len(page.items) > EVENTS_PER_PAGE
    return Page(items=items, total=page.total), (cursors.event_cursor(items[-1]) if more else None)


def query_instant(value: str, field: str, *, end: bool) -> datetime:
    """A `startDate` / `endDate`: Unix milliseconds (the REST overview), or an ISO 8601 date or
    date-time (the event page). A date-only `endDate` is the whole of that UTC day, and every
    end counts to the end of its millisecond, so "on or before" holds at the precision shown."""
    if value.isdigit():
        moment = cursors.from_unix_ms(int(value))
    else:
        moment = instant(value, field)
        if end and len(value) == 10:
            # 9999-12-31 ends where a datetime does.
            return moment.replace(hour=23, minute=59, second=59, microsecond=999_999)
    if end:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000 + 999)
    return moment
