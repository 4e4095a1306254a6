"""Usages of a Moltin promotion's codes (current/get-promotion-usages.mdx,
get-a-promotion-code-usage.mdx, anonymize-usages.mdx).

The stand-in has no carts: a usage is recorded by the control plane's shopper code use. Filters
and sorts are the ones the pages list; the default order is `updated_at` newest first for a
promotion's usages and `used_on` oldest first for one code's [doc].
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from codestand.core.clock import Clock
from codestand.core.errors import InvalidRequest, NotFound, Problem
from codestand.core.models import Page, Promotion, PromotionUsage
from codestand.moltin import filters, promotions
from codestand.storage.base import Storage

_DATES = frozenset({"gt", "ge", "le", "lt"})
PROMOTION_FILTERS = {"id": frozenset({"eq"}), "code": frozenset({"eq"}), "used_on": _DATES}  # [doc]
CODE_FILTERS = PROMOTION_FILTERS  # [doc]: the same three
PROMOTION_SORTS = ("code", "customer_id", "order_id", "customer_email", "id", "used_on", "updated_at")  # [doc]
CODE_SORTS = ("used_on",)  # [doc]


def new(clock: Clock, promotion: Promotion, code: str, *, user: str | None, order_id: str | None, email: str | None) -> PromotionUsage:
    """The usage a use of `code` records (written with the use: `promotion_codes.use`)."""
    now = clock.now()
    return PromotionUsage(
        id=str(uuid.uuid4()),
        promotion_id=promotion.id,
        code=code,
        # The stand-in's codes have no ids of their own: one derived from promotion and code.
        code_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{promotion.id}/{code}")),
        used_on=now,
        updated_at=now,
        order_id=order_id,
        customer_id=user,
        customer_email=email,
    )


def list_page(store: Storage, tenant: str, promotion_id: str, *, code: str | None, filter: str | None, sort: str | None,
              offset: int, limit: int) -> Page:  # fmt: skip
    promotions.get(store, tenant, promotion_id)
    if code is not None:
        found = store.find_promotion_code(tenant, code)
        if found is None or found[0].id != promotion_id:
            raise NotFound(Problem("code_not_found", params={"code": code}))  # as a delete of it is
    conditions = filters.parse(filter, CODE_FILTERS if code is not None else PROMOTION_FILTERS)
    sorts, default = (CODE_SORTS, "used_on") if code is not None else (PROMOTION_SORTS, "-updated_at")
    field = sort or default
    if field.lstrip("-") not in sorts:
        raise InvalidRequest(Problem("parameter", "sort", {"message": f"sort by one of: {', '.join(sorts)}"}))
    every = [u for u in store.list_promotion_usages(tenant, promotion_id) if code is None or u.code == code]
    kept = [u for u in every if filters.matches(conditions, lambda name, u=u: _value(u, name))]
    name = field.lstrip("-")
    kept.sort(key=lambda u: (getattr(u, name) is None, getattr(u, name) or ""), reverse=field.startswith("-"))
    return Page(items=kept[offset : offset + limit], total=len(kept))


def anonymize(store: Storage, clock: Clock, tenant: str, ids: list[str]) -> tuple[list[PromotionUsage], list[str]]:
    """Anonymize those usages the store has; the ids it has not are returned apart [doc]."""
    found = store.get_promotion_usages(tenant, ids)
    done = [
        replace(u, customer_email="**" if u.customer_email is not None else None, anonymized=True,
                updated_at=clock.now(), updated_by=promotions.actor(tenant))
        for u in found
    ]  # fmt: skip
    store.replace_promotion_usages(tenant, done)
    have = {u.id for u in found}
    return done, [i for i in ids if i not in have]


def _value(usage: PromotionUsage, name: str) -> str:
    value = getattr(usage, name)
    return value.isoformat().replace("+00:00", "Z") if name == "used_on" else value
