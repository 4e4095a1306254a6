"""Control routes that name a vendor's tenant: `/__codestand/thoughtindustries/tenants/{tenant}/...`
and `/__codestand/moltin/tenants/{tenant}/...` (see `core.tenants`).

`{tenant}` is the name the vendor's client uses: a Thought Industries API key, a Moltin
`client_id`.
"""

from __future__ import annotations

import csv
import io

from connexion.lifecycle import ConnexionResponse

from codestand.context import current
from codestand.control import snapshots
from codestand.core import tenants
from codestand.core.clock import iso_millis
from codestand.core.errors import Problem, RuleViolation
from codestand.core.models import CatalogItem
from codestand.moltin import jobs, promotion_codes
from codestand.storage.base import CATALOG_KINDS
from codestand.thoughtindustries import groups as redemption_groups
from codestand.thoughtindustries import redemptions

# Thought Industries ------------------------------------------------------------------------


async def ti_reset(tenant: str) -> tuple[None, int]:
    reset(tenants.ti(tenant))
    return None, 204


async def ti_get_catalog(tenant: str) -> dict:
    return _catalog_body(current().store.catalog(tenants.ti(tenant)))


async def ti_add_catalog(tenant: str, body: dict) -> dict:
    """Answers what it added (or renamed), not the whole catalog: a catalog may be large, and
    the client knows what it sent."""
    s, key = current(), tenants.ti(tenant)
    s.tenants.use(key)
    items = _items(body)
    held = s.store.catalog(key)
    known = {kind: {i.id for i in held.get(kind, [])} for kind in CATALOG_KINDS}
    new = sum(len({i.id for i in entries} - known[kind]) for kind, entries in items.items())
    _check_catalog_size(sum(len(v) for v in known.values()) + new)
    for kind, entries in items.items():
        s.store.put_catalog_items(key, kind, entries)
    return _catalog_body({kind: list({i.id: i for i in entries}.values()) for kind, entries in items.items()})


async def ti_replace_catalog(tenant: str, body: dict) -> dict:
    s, key = current(), tenants.ti(tenant)
    s.tenants.use(key)
    items = _items(body)
    _check_catalog_size(sum(len({i.id for i in entries}) for entries in items.values()))
    s.store.replace_catalog(key, items)
    return _catalog_body(s.store.catalog(key))


async def ti_group_codes(tenant: str, id: str, format: str = "json"):
    store, key = current().store, tenants.ti(tenant)
    redemption_groups.get(store, key, id)
    codes = store.group_codes(key, id)
    redeemed = store.redeemed_codes(key, id)
    if format == "csv":
        # One code a line under a `code` header: what a spreadsheet of the admin UI's export holds.
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "redeemed"])
        writer.writerows([spreadsheet_safe(code), "true" if code in redeemed else "false"] for code in codes)
        return ConnexionResponse(status_code=200, body=out.getvalue(), mimetype="text/csv", content_type="text/csv; charset=utf-8")
    # The spec offers two content types, so Connexion wants the one chosen named.
    body = {"codes": [{"code": code, "redeemed": code in redeemed} for code in codes]}
    return body, 200, {"Content-Type": "application/json"}


async def ti_redeem(tenant: str, body: dict) -> tuple[dict, int]:
    s = current()
    # The learner is a UUID (the vendor's feed types userId so), kept in lower case.
    group, event = redemptions.redeem(s.store, s.clock, tenants.ti(tenant), body["code"], body["userId"].lower())
    return {
        "code": event.code,
        "redemptionCodeGroupId": group.id,
        "userId": event.user_id,
        "redeemedAt": iso_millis(event.occurred_at),
        "redeemedCodesCount": group.redeemed_codes,
    }, 201


async def ti_export_snapshot(tenant: str) -> dict:
    return snapshots.export(current().store, tenants.ti(tenant), None)


async def ti_import_snapshot(tenant: str, body: dict) -> tuple[None, int]:
    restore(body, tenants.ti(tenant), None)
    return None, 204


# Moltin ------------------------------------------------------------------------------------


async def moltin_reset(tenant: str) -> tuple[None, int]:
    reset(tenants.moltin(tenant))
    return None, 204


async def moltin_use_code(tenant: str, body: dict) -> tuple[dict, int]:
    s = current()
    store_key = tenants.moltin(tenant)
    promotion, code = promotion_codes.use(
        s.store, s.clock, store_key, body["code"], body.get("user"), order_id=body.get("order_id"), email=body.get("customer_email")
    )
    return {"code": code.code, "promotion_id": promotion.id, "uses_left": code.uses_left}, 201


async def moltin_hold_jobs(tenant: str, body: dict) -> dict:
    s = current()
    jobs.hold(s.store, tenants.moltin(tenant), body["hold"], s.clock.now())
    return {"hold": jobs.held(s.store, tenants.moltin(tenant))}


async def moltin_get_rate_limits(tenant: str) -> dict:
    return current().moltin_limits.limits(tenants.moltin(tenant))


async def moltin_set_rate_limits(tenant: str, body: dict) -> dict:
    return current().moltin_limits.set_limits(tenants.moltin(tenant), body)


async def moltin_export_snapshot(tenant: str) -> dict:
    return snapshots.export(current().store, None, tenants.moltin(tenant))


async def moltin_import_snapshot(tenant: str, body: dict) -> tuple[None, int]:
    restore(body, None, tenants.moltin(tenant))
    return None, 204


# Shared with the routes of earlier versions -------------------------------------------------


def reset(*keys: str) -> None:
    s = current()
    for key in keys:
        s.store.reset(key)  # its rate-limit settings and jobs hold too: they are the store's
        s.tenants.forget(key)


def restore(body: dict, ti: str | None, moltin: str | None) -> None:
    """A snapshot into these tenants, within the bounds every write has (`--tenant-max-codes`)."""
    s = current()
    held = sum(len(g.get("codes") or ()) for g in body.get("redemptionCodeGroups") or ()) + sum(
        len(p.get("codes") or ()) for p in body.get("promotions") or ()
    )
    if held > s.settings.tenant_max_codes:
        raise RuleViolation(Problem("tenant_code_limit", params={"limit": s.settings.tenant_max_codes}))
    _check_catalog_size(sum(len(v) for v in (body.get("catalog") or {}).values()))
    for key in filter(None, (ti, moltin)):
        s.tenants.use(key)
    snapshots.restore(s.store, body, ti, moltin)


def _check_catalog_size(count: int) -> None:
    limit = current().settings.max_catalog_items
    if count > limit:
        raise RuleViolation(Problem("catalog_limit", params={"limit": limit}))


# Shapes --------------------------------------------------------------------------------------

# A cell a spreadsheet would read as a formula (OWASP, "CSV Injection"): `=`, `+`, `-`, `@`,
# tab and carriage return at its start. Such a cell gets a leading `'`, which spreadsheets show
# as text and do not evaluate.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _items(body: dict) -> dict[str, list[CatalogItem]]:
    return {
        kind: [CatalogItem(id=e["id"].lower(), name=e.get("title", e.get("name"))) for e in body.get(kind, [])]
        for kind in CATALOG_KINDS
        if kind in body
    }


def _catalog_body(catalog: dict[str, list[CatalogItem]]) -> dict:
    return {
        kind: [{"id": i.id, ("title" if kind == "courses" else "name"): i.name} for i in catalog.get(kind, [])]
        for kind in CATALOG_KINDS
    }
