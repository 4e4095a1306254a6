"""A learner redeeming a Thought Industries code, and the vendor's event feed of redemptions.

The vendor's learners redeem on the learning site (`/redeem/<code>`), which its REST API does not
offer; the control plane plays the learner. Each redemption raises `redeemedCodesCount` and shows
up in `GET /incoming/v2/events/redemptionCodeRedeem`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from codestand.core import cursors
from codestand.core.clock import Clock, parse_datetime
from codestand.core.errors import Conflict, NotFound, Problem, RuleViolation
from codestand.core.models import Page, RedemptionEvent, RedemptionGroup
from codestand.storage.base import AlreadyUsed, Storage

EVENTS_PER_PAGE = 50


def redeem(store: Storage, clock: Clock, tenant: str, code: str, user_id: str) -> tuple[RedemptionGroup, RedemptionEvent]:
    # Generated codes are lowercase; a learner typing them in capitals means the same code.
    code = code.strip().lower()
    found = store.find_code(tenant, code)
    if found is None:
        raise NotFound(Problem("unknown_code", "code", {"code": code}))
    group_id, redeemed = found
    if redeemed:
        raise Conflict(Problem("code_already_redeemed", "code", {"code": code}))
    now = clock.now()
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
    user_id: str | None,
    group_id: str | None,
) -> tuple[Page, str | None]:
    offset = cursors.offset(cursor, "events") if cursor else 0
    page = store.list_redemption_events(
        tenant, offset=offset, limit=EVENTS_PER_PAGE, start=start, end=end, user_id=user_id, group_id=group_id
    )
    after = offset + len(page.items)
    return page, (cursors.cursor(after, "events") if after < page.total else None)
