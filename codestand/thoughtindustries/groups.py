"""Thought Industries redemption code groups: creating them with their codes, reading, listing.

The body has passed the contract's schema by the time it gets here (types, bounds, at least one
item, access days versus access expiration date); this module applies what a schema cannot
express: the catalog, and whether the tenant's code space still holds the codes asked for.
"""

from __future__ import annotations

import uuid
from typing import Any

from codestand.core.clock import Clock, instant, iso_millis
from codestand.core.errors import Conflict, NotFound, Problem, RuleViolation
from codestand.core.models import CatalogItem, Page, RedemptionGroup
from codestand.storage.base import CodesTaken, Storage
from codestand.thoughtindustries import cursors, catalog, codes

PAGE_SIZE = 50  # the vendor's list page size [doc]
_ATTEMPTS = 5


def create(
    store: Storage,
    clock: Clock,
    seed: catalog.Seed,
    tenant: str,
    body: dict[str, Any],
    *,
    strict_catalog: bool,
    max_codes: int | None = None,
) -> RedemptionGroup:
    length, count = body["codeLength"], body["totalCodesCount"]
    group = record(store, clock, seed, tenant, body, code_length=length, total_codes=count, strict_catalog=strict_catalog)
    if max_codes is not None and stored_codes(store, tenant) + count > max_codes:
        raise RuleViolation(Problem("tenant_code_limit", "totalCodesCount", {"limit": max_codes}))
    for _ in range(_ATTEMPTS):
        used = store.code_count(tenant, length)
        available = codes.space(length) - used
        if count > available:
            raise RuleViolation(Problem("rule:code_space", "codeLength", {"available": available, "length": length}))
        # Where a clash is rare, no lookup first: the store refuses a taken code (CodesTaken),
        # and the group is drawn again. (10,000 codes of 8 characters: one lookup of 10,000
        # keys saved, a round trip on PostgreSQL, where fewer than one group in a thousand clashes.)
        taken = (lambda batch: store.codes_taken(tenant, batch)) if codes.may_clash(count, length, used) else codes.nothing_taken
        drawn = codes.draw(count, length, used, taken)
        try:
            store.create_group(tenant, group, drawn)
            return group
        except CodesTaken:
            continue  # another writer took some of these codes meanwhile: draw again
    raise Conflict()


def record(
    store: Storage,
    clock: Clock,
    seed: catalog.Seed,
    tenant: str,
    body: dict[str, Any],
    *,
    code_length: int,
    total_codes: int,
    strict_catalog: bool,
    uploaded: bool = False,
    gift: bool = False,
) -> RedemptionGroup:
    """A new group's record from a create body's fields, its catalog items resolved."""
    # Every unknown id of every kind is reported at once, as the other rules are.
    unknown: list[Problem] = []

    def resolve(kind: str, ids: list[str]) -> tuple[CatalogItem, ...]:
        try:
            return catalog.resolve(store, seed, tenant, kind, ids, strict=strict_catalog)
        except RuleViolation as exc:
            unknown.extend(exc.problems)
            return ()

    items = {kind: resolve(kind, body.get(kind) or []) for kind in ("courses", "learningPaths", "bundles", "licenses")}
    client = body.get("client")
    client_item = (resolve("clients", [client]) or (None,))[0] if client else None
    if unknown:
        raise RuleViolation(*unknown)
    return RedemptionGroup(
        id=str(uuid.uuid4()),
        label=body["label"],
        code_length=code_length,
        total_codes=total_codes,
        created_at=clock.now(),
        expiration_date=_answered(body, "expirationDate"),
        access_days=body.get("accessDays"),
        access_expiration_date=_answered(body, "accessExpirationDate"),
        client=client_item,
        courses=items["courses"],
        learning_paths=items["learningPaths"],
        bundles=items["bundles"],
        licenses=items["licenses"],
        uploaded=uploaded,
        gift=gift,
    )


def stored_codes(store: Storage, tenant: str) -> int:
    """How many codes the tenant holds, of every length a group may have."""
    return sum(store.code_count(tenant, length) for length in range(codes.MIN_LENGTH, codes.MAX_LENGTH + 1))


def get(store: Storage, tenant: str, group_id: str) -> RedemptionGroup:
    group = store.get_group(tenant, group_id)
    if group is None:
        raise NotFound(Problem("group_not_found"))
    return group


def list_page(
    store: Storage, tenant: str, *, cursor: str | None, query: str | None, sort: str | None
) -> tuple[Page, str | None]:
    """One page of 50 and the cursor of the next page (None on the last): keyset, see `cursors`."""
    after = cursors.group_position(cursor) if cursor else None
    field, _, direction = (sort or "").partition(":")
    page = store.group_page(
        tenant, query=query or None, sort=field or None, descending=direction == "desc", after=after, limit=PAGE_SIZE + 1
    )
    # One more than a page tells whether another page follows.
    items, more = page.items[:PAGE_SIZE], len(page.items) > PAGE_SIZE
    return Page(items=items, total=page.total), (cursors.group_cursor(items[-1]) if more else None)


def _answered(body: dict[str, Any], field: str) -> str | None:
    """Dates are answered as UTC instants with milliseconds."""
    value = body.get(field)
    return None if value is None else iso_millis(instant(value, field))
