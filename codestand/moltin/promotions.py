"""Moltin promotions and their lifecycle.

From the vendor page: when a promotion's `end` passes its codes become invalid but are not
deleted; re-enabling an expired promotion (moving `end` into the future) deletes all its codes,
and doing so to one with more than 1000 codes is refused with a 422.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from codestand.core.clock import Clock, instant
from codestand.core.errors import InvalidRequest, NotFound, Problem, RuleViolation
from codestand.core.models import Page, Promotion
from codestand.core import tenants
from codestand.moltin import filters
from codestand.storage.base import QuotaExceeded, Storage

MAX_PROMOTIONS = 1000  # per store [doc]
REENABLE_CODE_LIMIT = 1000  # re-extending one with more codes is refused [doc]
_EXTRAS = ("min_cart_value", "max_discount_value", "max_applications_per_cart")


def create(store: Storage, clock: Clock, tenant: str, data: dict[str, Any]) -> Promotion:
    now = clock.now()
    start, end = instant(data["start"], "data.start"), instant(data["end"], "data.end")
    _check_order(start, end)
    promotion = Promotion(
        id=str(uuid.uuid4()),
        name=data["name"],
        description=data["description"],
        enabled=data["enabled"],
        promotion_type=data["promotion_type"],
        schema=data["schema"],
        start=start,
        end=end,
        created_at=now,
        updated_at=now,
        automatic=data.get("automatic"),
        extras={k: data[k] for k in _EXTRAS if k in data},
        created_by=actor(tenant),
        updated_by=actor(tenant),
    )
    try:
        store.add_promotion(tenant, promotion, MAX_PROMOTIONS)
    except QuotaExceeded:
        raise InvalidRequest(Problem("too_many_promotions", params={"limit": MAX_PROMOTIONS})) from None
    store.add_promotion_version(tenant, promotion)
    return promotion


def actor(tenant: str) -> str:
    """Who a client_credentials token acts as, in the form of the vendor's example
    `"updated_by": "Key-2439657140697170361"` (anonymize-usages.mdx): a stable number per client_id."""
    client_id = tenants.split(tenant)[1]  # the store's key is `moltin:<client_id>`
    return "Key-" + str(int.from_bytes(hashlib.sha256(client_id.encode()).digest()[:8], "big") % 10**19).rjust(19, "0")


def get(store: Storage, tenant: str, promotion_id: str) -> Promotion:
    promotion = store.get_promotion(tenant, promotion_id)
    if promotion is None:
        raise NotFound(Problem("promotion_not_found"))
    return promotion


# The one filter the vendor lists for `GET /v2/promotions` (its cm_search attributes need a
# header and a search service the stand-in does not have).
FILTERS = {"code": frozenset({"eq"})}


def list_page(store: Storage, tenant: str, *, offset: int, limit: int, code_filter: str | None) -> Page:
    codes = {c.values[0] for c in filters.parse(code_filter, FILTERS)}
    if len(codes) > 1:
        # ANDed: a code names at most one promotion of a store, so they must all name the same.
        owners = {found[0].id if (found := store.find_promotion_code(tenant, c)) else None for c in codes}
        if len(owners) != 1 or None in owners:
            return Page(items=[], total=0)
    return store.list_promotions(tenant, offset=offset, limit=limit, code=min(codes) if codes else None)


def history(store: Storage, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
    """The promotion as each create and update left it, oldest first."""
    get(store, tenant, promotion_id)
    return store.list_promotion_versions(tenant, promotion_id, offset=offset, limit=limit)


def update(store: Storage, clock: Clock, tenant: str, promotion_id: str, data: dict[str, Any]) -> Promotion:
    current = get(store, tenant, promotion_id)
    now = clock.now()
    start = instant(data["start"], "data.start") if "start" in data else current.start
    end = instant(data["end"], "data.end") if "end" in data else current.end
    _check_order(start, end)
    changes = {k: data[k] for k in ("name", "description", "enabled", "promotion_type", "schema", "automatic") if k in data}
    updated = replace(
        current,
        **changes,
        start=start,
        end=end,
        updated_at=now,
        updated_by=actor(tenant),
        extras={**current.extras, **{k: data[k] for k in _EXTRAS if k in data}},
    )
    reenabled = is_expired(current, now) and not is_expired(updated, now)
    if reenabled and store.promotion_code_count(tenant, promotion_id) > REENABLE_CODE_LIMIT:
        raise RuleViolation(Problem("reenable_too_many_codes", "request"))
    try:
        store.replace_promotion(tenant, updated, drop_codes=reenabled)
    except KeyError:
        raise NotFound(Problem("promotion_not_found")) from None  # deleted meanwhile
    store.add_promotion_version(tenant, updated)
    return updated


def delete(store: Storage, tenant: str, promotion_id: str) -> None:
    if not store.delete_promotion(tenant, promotion_id):
        raise NotFound(Problem("promotion_not_found"))


def is_expired(promotion: Promotion, now: datetime) -> bool:
    return now >= promotion.end


def _check_order(start: datetime, end: datetime) -> None:
    if start >= end:
        raise RuleViolation(Problem("start_after_end", "data.end"))
