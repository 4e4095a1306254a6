"""Codes of Moltin promotions: at most 1000 a promotion, each unique within its store."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from codestand.core.clock import Clock
from codestand.core.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    Problem,
    RuleViolation,
)
from codestand.core.models import Page, Promotion, PromotionCode
from codestand.moltin import filters, promotions, usages
from codestand.storage.base import AlreadyUsed, CodesTaken, QuotaExceeded, Storage

MAX_CODES = 1000  # per promotion [doc]


def stored_codes(store: Storage, tenant: str) -> int:
    """How many codes the store holds across its promotions."""
    every = store.list_promotions(tenant, offset=0, limit=promotions.MAX_PROMOTIONS).items
    return sum(store.promotion_code_count(tenant, p.id) for p in every)


def add(
    store: Storage,
    clock: Clock,
    tenant: str,
    promotion_id: str,
    entries: list[dict[str, Any]],
    consume_unit: str = "per_cart",
    *,
    max_codes: int | None = None,
) -> Promotion:
    """Add codes; the answer is the promotion, as the vendor's 201 shows it.

    `consume_unit` is the unit of codes that name none: epcc-cli sends one beside `codes`.
    """
    promotion = promotions.get(store, tenant, promotion_id)
    # The vendor's quotas bound a store at MAX_PROMOTIONS x MAX_CODES codes; only a lower
    # `--tenant-max-codes` needs the count.
    if max_codes is not None and max_codes < promotions.MAX_PROMOTIONS * MAX_CODES:
        if stored_codes(store, tenant) + len(entries) > max_codes:
            raise RuleViolation(Problem("tenant_code_limit", "data.codes", {"limit": max_codes}))
    if promotion.automatic:
        raise RuleViolation(Problem("codes_on_automatic"))
    now, by = clock.now(), promotions.actor(tenant)
    codes = [
        PromotionCode(
            code=e["code"],
            uses=e.get("uses"),
            user=tuple(e["user"]) if isinstance(e.get("user"), list) else e.get("user"),
            consume_unit=e.get("consume_unit", consume_unit),
            created_at=now,
            created_by=by,
        )
        for e in entries
    ]
    touched = replace(promotion, updated_at=now)
    try:
        store.add_promotion_codes(tenant, touched, codes, MAX_CODES)
    except CodesTaken as taken:
        raise Conflict(
            *(
                Problem("duplicate_code", f"data.codes[{n}].code", {"code": c.code})
                for n, c in enumerate(codes)
                if c.code in taken.codes
            )
        ) from None
    except QuotaExceeded:
        raise InvalidRequest(Problem("too_many_codes", params={"limit": MAX_CODES})) from None
    except KeyError:
        raise NotFound(Problem("promotion_not_found")) from None  # deleted meanwhile
    return touched


# The vendor lists no filter for codes, but both SDKs send `Filter()` on `Codes()`: the code's
# own attributes, with the operators that fit them (a guess, in the README).
FILTERS = {
    "code": frozenset({"eq", "like", "in"}),
    "consume_unit": frozenset({"eq"}),
    "user": frozenset({"eq", "in"}),
    "uses": frozenset({"eq", "gt", "ge", "lt", "le"}),
    "max_uses": frozenset({"eq", "gt", "ge", "lt", "le"}),
    "created_by": frozenset({"eq"}),
}


def list_page(
    store: Storage, tenant: str, promotion_id: str, *, offset: int, limit: int, filter: str | None = None
) -> Page:
    """A page of codes; an automatic promotion lists its system code `auto_<id>` first [doc]."""
    promotion = promotions.get(store, tenant, promotion_id)
    conditions = filters.parse(filter, FILTERS)
    if conditions:
        every = _with_system_code(promotion, store.list_promotion_codes(tenant, promotion_id, offset=0, limit=MAX_CODES + 1).items)
        kept = [c for c in every if filters.matches(conditions, lambda name, c=c: _attribute(c, name))]
        return Page(items=kept[offset : offset + limit], total=len(kept))
    if not promotion.automatic:
        return store.list_promotion_codes(tenant, promotion_id, offset=offset, limit=limit)
    system = _with_system_code(promotion, []) if offset == 0 else []
    page = store.list_promotion_codes(tenant, promotion_id, offset=max(offset - 1, 0), limit=limit - len(system))
    return Page(items=system + page.items, total=page.total + 1)


def _with_system_code(promotion: Promotion, codes: list[PromotionCode]) -> list[PromotionCode]:
    if not promotion.automatic:
        return codes
    system = PromotionCode(code=f"auto_{promotion.id}", created_at=promotion.created_at, created_by=promotion.created_by)
    return [system, *codes]


def _attribute(code: PromotionCode, name: str) -> Any:
    if name == "uses":
        return code.uses_left
    if name == "max_uses":
        return code.uses
    return getattr(code, name)


def delete(store: Storage, tenant: str, promotion_id: str, codes: list[str]) -> None:
    """Bulk delete: codes the promotion does not have are passed over."""
    promotions.get(store, tenant, promotion_id)
    store.delete_promotion_codes(tenant, promotion_id, codes)


def delete_one(store: Storage, tenant: str, promotion_id: str, code: str) -> None:
    promotions.get(store, tenant, promotion_id)
    if not store.delete_promotion_codes(tenant, promotion_id, [code]):
        raise NotFound(Problem("code_not_found", params={"code": code}))


def use(store: Storage, clock: Clock, tenant: str, code: str, user: str | None, *,
        order_id: str | None = None, email: str | None = None) -> tuple[Promotion, PromotionCode]:  # fmt: skip
    """A shopper applies a code: checked against the promotion and the code, then counted, with
    the usage the vendor's usages API then shows (it records one at checkout) in the same write.

    Refusals name why: an unknown code (the vendor's cart answer [doc]), a disabled, not yet
    started or expired promotion, a code kept for another user, or one with no uses left.
    """
    found = store.find_promotion_code(tenant, code)
    if found is None:
        raise NotFound(Problem("unknown_promotion_code", "code", {"code": code}))
    promotion, entry = found
    now = clock.now()
    if not promotion.enabled:
        raise RuleViolation(Problem("promotion_disabled", "code", {"code": code}))
    if now < promotion.start:
        raise RuleViolation(Problem("promotion_not_started", "code", {"code": code}))
    if promotions.is_expired(promotion, now):
        raise RuleViolation(Problem("promotion_expired", "code", {"code": code}))
    if not entry.allows(user):
        raise RuleViolation(Problem("code_for_another_user", "user", {"code": code}))
    try:
        usage = usages.new(clock, promotion, code, user=user, order_id=order_id, email=email)
        return promotion, store.use_promotion_code(tenant, promotion.id, code, usage)
    except AlreadyUsed:
        raise RuleViolation(Problem("code_used_up", "code", {"code": code, "uses": entry.uses})) from None
