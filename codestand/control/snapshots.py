"""A tenant's whole state as JSON, and back: through the storage interface only, so every
backend exports and imports alike.

Restoring replaces the tenant's state: it is reset first, then rebuilt record by record with the
same writes the API makes (a group with all its codes at once, then its redemptions in order).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from typing import Any

from codestand import spec
from codestand.control import snapshot_moltin
from codestand.control.snapshot_moltin import instant as _instant
from codestand.core.clock import iso_millis
from codestand.core.errors import InvalidRequest, Problem
from codestand.core.models import (
    CatalogItem,
    Promotion,
    PromotionCode,
    RedemptionEvent,
    RedemptionGroup,
)
from codestand.http.schema_problems import _cached_validator, may_have_problems, problems_of
from codestand.moltin.messages import TABLE as MOLTIN_TEXTS
from codestand.moltin.promotion_codes import MAX_CODES
from codestand.moltin.promotions import _EXTRAS as EXTRAS
from codestand.moltin.promotions import MAX_PROMOTIONS
from codestand.storage.base import CATALOG_KINDS, Storage

VERSION = 1
_ALL = 10**9  # "every record" for the stores' paged reads


def export(store: Storage, ti: str | None, moltin: str | None) -> dict[str, Any]:
    """The Thought Industries parts of tenant `ti` and the Moltin part of `moltin` (store keys,
    see `core.tenants`); the parts of a vendor not asked for are empty."""
    groups = store.list_groups(ti, query=None, sort=None, descending=False, offset=0, limit=_ALL).items if ti else []
    events = store.list_redemption_events(ti, offset=0, limit=_ALL).items if ti else []
    promotions = store.list_promotions(moltin, offset=0, limit=_ALL).items if moltin else []
    catalog = store.catalog(ti) if ti else {kind: [] for kind in CATALOG_KINDS}
    return {
        # No tenant name: it may be a Thought Industries key, and the snapshot goes to
        # whichever tenant it is put to.
        "version": VERSION,
        "catalog": {
            kind: [{"id": i.id, "name": i.name} for i in items] for kind, items in catalog.items()
        },
        "redemptionCodeGroups": [
            {**_group(g), "codes": store.group_codes(ti, g.id)} for g in groups
        ],
        "redemptions": [
            {"id": e.id, "code": e.code, "groupId": e.group_id, "userId": e.user_id, "occurredAt": iso_millis(e.occurred_at)}
            for e in events
        ],
        "promotions": [
            {
                **snapshot_moltin.promotion_json(p),
                "codes": [
                    {
                        "code": c.code,
                        "uses": c.uses,
                        "user": list(c.user) if isinstance(c.user, tuple) else c.user,
                        "consume_unit": c.consume_unit,
                        "used": c.used,
                        "created_at": None if c.created_at is None else iso_millis(c.created_at),
                        "created_by": c.created_by,
                    }
                    for c in store.list_promotion_codes(moltin, p.id, offset=0, limit=_ALL).items
                ],
                **snapshot_moltin.records(store, moltin, p.id),
            }
            for p in promotions
        ],
    }


def restore(store: Storage, snapshot: dict[str, Any], ti: str | None, moltin: str | None) -> None:
    """Replace the state of Thought Industries tenant `ti` and Moltin tenant `moltin` (store
    keys; either may be None, and then the snapshot must hold nothing of that vendor).

    Everything is read and checked before the first write, so a snapshot that cannot be
    restored is refused with the tenants' state untouched.
    """
    try:
        # Ids in lower case, as the catalog routes keep them (`tenant_routes._items`), which is
        # how a group's ids are looked up (`thoughtindustries.catalog.resolve`).
        catalog = {
            kind: [CatalogItem(id=i["id"].lower(), name=i["name"]) for i in snapshot["catalog"].get(kind, [])]
            for kind in CATALOG_KINDS
        }
        groups = [(_group_from(g), list(g["codes"])) for g in snapshot["redemptionCodeGroups"]]
        events = [
            RedemptionEvent(id=e["id"], code=e["code"], group_id=e["groupId"], user_id=e["userId"], occurred_at=_instant(e["occurredAt"]))
            for e in snapshot["redemptions"]
        ]
        promotions = [
            (
                snapshot_moltin.promotion_from(p),
                [
                    PromotionCode(
                        code=c["code"], uses=c.get("uses"),
                        user=tuple(c["user"]) if isinstance(c.get("user"), list) else c.get("user"),
                        consume_unit=c.get("consume_unit", "per_cart"), used=c.get("used", 0),
                        created_at=_instant(c["created_at"]) if c.get("created_at") else None,
                        created_by=c.get("created_by"),
                    )
                    for c in p["codes"]
                ],
            )
            for p in snapshot["promotions"]
        ]
        held = [snapshot_moltin.Records(promotion, p) for (promotion, _), p in zip(promotions, snapshot["promotions"])]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidRequest(Problem("snapshot", None, {"reason": f"cannot read {exc}"})) from None
    _vendor_rules(snapshot, groups, promotions, held)
    _check(groups, events, promotions)
    if ti is None and (groups or events or any(catalog.values())):
        raise InvalidRequest(Problem("snapshot", None, {"reason": "a Moltin tenant's snapshot holds no Thought Industries catalog, groups or redemptions"}))
    if moltin is None and promotions:
        raise InvalidRequest(Problem("snapshot", None, {"reason": "a Thought Industries tenant's snapshot holds no promotions"}))

    if ti is not None:
        store.reset(ti)
        store.replace_catalog(ti, catalog)
        for group, codes in groups:
            store.create_group(ti, group, codes)
        for event in events:
            store.redeem_code(ti, event)
    if moltin is not None:
        store.reset(moltin)
        for (promotion, codes), records in zip(promotions, held):
            store.add_promotion(moltin, promotion, _ALL)
            if codes:
                store.add_promotion_codes(moltin, promotion, codes, _ALL)
            records.write(store, moltin)


# How many problems a refused snapshot names: the first ones, in the snapshot's order.
MAX_PROBLEMS = 10
# Generated codes: what the vendor route's `codeLength` allows, of the generator's alphabet.
MIN_GENERATED_LENGTH = 4
_GENERATED = re.compile(r"[a-z0-9]+")


def _vendor_rules(snapshot: dict[str, Any], groups, promotions, held) -> None:
    """What the vendor routes refuse and a schema cannot say, record by record: a group holds
    `totalCodesCount` codes; generated, of `codeLength` (4 to 20) characters of `a-z0-9` (an
    uploaded group's codes are the admin's, which the contract's pattern has checked); a
    promotion is one `POST /v2/promotions` takes (`_as_created`) and ends after it starts; a
    store holds at most as many promotions, and a promotion as many codes, as the vendor
    routes let it; a code is not used more than it may be; its jobs and usages can be kept
    (`snapshot_moltin.problems`)."""
    problems: list[Problem] = []

    def refuse(field: str, reason: str) -> None:
        problem = Problem("snapshot", field, {"reason": f"{field}: {reason}"})
        if len(problems) < MAX_PROBLEMS and problem not in problems:
            problems.append(problem)

    for n, (group, codes) in enumerate(groups):
        where = f"redemptionCodeGroups[{n}]"
        if len(codes) != group.total_codes:
            refuse(f"{where}.codes", f"{len(codes)} codes where totalCodesCount is {group.total_codes}")
        if group.uploaded:
            continue
        if group.code_length < MIN_GENERATED_LENGTH:
            refuse(f"{where}.codeLength", f"a generated group's codes are at least {MIN_GENERATED_LENGTH} characters long")
        for m, code in enumerate(codes):
            if len(code) != group.code_length:
                refuse(f"{where}.codes[{m}]", f"{code} is not {group.code_length} characters long (codeLength)")
            elif not _GENERATED.fullmatch(code):
                refuse(f"{where}.codes[{m}]", f"{code} is not of a-z and 0-9 only, as a generated code is (or mark the group uploaded)")
    if len(promotions) > MAX_PROMOTIONS:
        refuse("promotions", f"{len(promotions)} promotions where a store holds at most {MAX_PROMOTIONS}")
    for n, (promotion, codes) in enumerate(promotions):
        where = f"promotions[{n}]"
        # Naming a promotion's problems takes a millisecond: only while more may be named.
        record = snapshot["promotions"][n]
        if len(problems) < MAX_PROBLEMS:
            for field, reason in _as_created(record, where):
                refuse(field, reason)
            for k, version in enumerate(record.get("history") or ()):
                for field, reason in _as_created(version, f"{where}.history[{k}]"):
                    refuse(field, reason)
            for k, job in enumerate(record.get("jobs") or ()):
                for field, reason in _as_job(job, f"{where}.jobs[{k}]"):
                    refuse(field, reason)
        if promotion.start >= promotion.end:
            refuse(f"{where}.end", "end must be after start")
        if len(codes) > MAX_CODES:
            refuse(f"{where}.codes", f"{len(codes)} codes where a promotion holds at most {MAX_CODES}")
        for m, code in enumerate(codes):
            if code.uses is not None and code.used > code.uses:
                refuse(f"{where}.codes[{m}].used", f"used {code.used} times of {code.uses}")
    snapshot_moltin.problems(held, refuse)
    if problems:
        raise InvalidRequest(*problems)


# A promotion's fields as `POST /v2/promotions` takes them in `data`; `extras` are the others it
# keeps (`moltin.promotions.create`), at the top level of `data` there.
_CREATED = ("name", "description", "enabled", "automatic", "promotion_type", "schema", "start", "end")


@functools.cache
def _vendor_schema(component: str) -> dict:
    """The very schema a vendor route validates with (openapi.yaml: `MoltinPromotionCreate`,
    `schema` by `promotion_type`, lengths, amounts, cart limits; `MoltinJobFields`, a job's
    parameters), with the components its `$ref`s name: the rules live there alone."""
    return {"allOf": [{"$ref": f"#/components/schemas/{component}"}], "components": spec.load()["components"]}


def _vendor_problems(component: str, data: dict, where: str, moved: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """What the vendor route would refuse in `data`, in the words it would answer with
    (`moltin.messages`); a field of `moved` is named under `where.extras`."""
    schema = _vendor_schema(component)
    if not may_have_problems(schema, data):  # the compiled check: microseconds a record
        return
    for error in _cached_validator(schema).iter_errors(data):
        extra = error.absolute_path and error.absolute_path[0] in moved
        for problem in problems_of(error, f"{where}.extras" if extra else where):
            _, (_, _, template) = MOLTIN_TEXTS.lookup(problem)
            yield problem.field or where, MOLTIN_TEXTS.fill(template or "is not valid", problem)


def _as_job(record: dict, where: str) -> Iterator[tuple[str, str]]:
    """A snapshot job's type and parameters, as `POST /v2/promotions/{id}/jobs` takes them."""
    data = {"job_type": record.get("job_type"), "parameters": record.get("parameters") or {}}
    yield from _vendor_problems("MoltinJobFields", data, where)


def _as_created(record: dict, where: str) -> Iterator[tuple[str, str]]:
    """What the vendor route would refuse in this snapshot promotion, field by field, in the
    words it would answer with (`moltin.messages`); fields named as the snapshot has them."""
    extras = record.get("extras") or {}
    for key in extras:
        if key not in EXTRAS:
            yield f"{where}.extras.{key}", f"{key} is not a field the vendor route keeps (extras are {', '.join(EXTRAS)})"
    # A null `automatic` is one the client never sent: the route takes no null for it.
    data = {"type": "promotion", **{k: record[k] for k in _CREATED if record.get(k) is not None}}
    data.update((k, v) for k, v in extras.items() if k in EXTRAS)
    yield from _vendor_problems("MoltinPromotionCreate", data, where, tuple(EXTRAS))


def _check(groups, events, promotions) -> None:
    """What the stores would refuse half-way: duplicates and redemptions of unknown codes."""
    for kind, ids in (("group", [g.id for g, _ in groups]), ("promotion", [p.id for p, _ in promotions])):
        if len(set(ids)) != len(ids):
            raise InvalidRequest(Problem("snapshot", None, {"reason": f"a {kind} id appears twice"}))
    # One pass over every code, each looked up once: a snapshot may hold a million codes.
    owner: dict[str, str] = {}
    for group, codes in groups:
        for code in codes:
            if code in owner:
                raise InvalidRequest(Problem("snapshot", None, {"reason": f"code {code} appears twice"}))
            owner[code] = group.id
    redeemed: set[str] = set()
    for event in events:
        if owner.get(event.code) != event.group_id or event.code in redeemed:
            raise InvalidRequest(Problem("snapshot", None, {"reason": f"redemption of {event.code} does not fit its group"}))
        redeemed.add(event.code)
    seen: set[str] = set()
    for _, codes in promotions:
        for code in codes:
            if code.code in seen:
                raise InvalidRequest(Problem("snapshot", None, {"reason": f"promotion code {code.code} appears twice"}))
            seen.add(code.code)


def _items(items: tuple[CatalogItem, ...]) -> list[dict]:
    return [{"id": i.id, "name": i.name, "placeholder": i.placeholder} for i in items]


def _items_from(items: list[dict]) -> tuple[CatalogItem, ...]:
    return tuple(CatalogItem(id=i["id"], name=i["name"], placeholder=i.get("placeholder", False)) for i in items)


def _group(g: RedemptionGroup) -> dict:
    return {
        "id": g.id,
        "label": g.label,
        "codeLength": g.code_length,
        "totalCodesCount": g.total_codes,
        "createdAt": iso_millis(g.created_at),
        "expirationDate": g.expiration_date,
        "accessDays": g.access_days,
        "accessExpirationDate": g.access_expiration_date,
        "client": _items((g.client,))[0] if g.client else None,
        "courses": _items(g.courses),
        "learningPaths": _items(g.learning_paths),
        "bundles": _items(g.bundles),
        "licenses": _items(g.licenses),
        "uploaded": g.uploaded,
        "gift": g.gift,
    }


def _group_from(g: dict) -> RedemptionGroup:
    return RedemptionGroup(
        id=g["id"],
        label=g["label"],
        code_length=g["codeLength"],
        total_codes=g["totalCodesCount"],
        created_at=_instant(g["createdAt"]),
        expiration_date=_date_text(g.get("expirationDate")),
        access_days=g.get("accessDays"),
        access_expiration_date=_date_text(g.get("accessExpirationDate")),
        client=_items_from([g["client"]])[0] if g.get("client") else None,
        courses=_items_from(g.get("courses", [])),
        learning_paths=_items_from(g.get("learningPaths", [])),
        bundles=_items_from(g.get("bundles", [])),
        licenses=_items_from(g.get("licenses", [])),
        uploaded=g.get("uploaded", False),
        gift=g.get("gift", False),
    )


def _date_text(text: str | None) -> str | None:
    """A group's expiration date as the API stores one: UTC, in milliseconds."""
    return None if text is None else iso_millis(_instant(text))
