"""The control plane (`/__codestand/...`, described in `control.yaml`)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone

from connexion.lifecycle import ConnexionResponse

from codestand import __version__
from codestand.context import current
from codestand.control import snapshots
from codestand.core.clock import iso_millis, parse_datetime
from codestand.core.errors import NotFound, Problem, Unavailable
from codestand.core.models import CatalogItem
from codestand.moltin import promotion_codes
from codestand.storage.base import CATALOG_KINDS
from codestand.thoughtindustries import groups as redemption_groups
from codestand.thoughtindustries import redemptions


async def health() -> dict:
    s = current()
    try:
        s.store.ping()
    except Exception as exc:  # any failure of the store is what this route reports
        raise Unavailable(Problem("storage_unavailable", params={"reason": str(exc)})) from None
    return {"status": "ok", "storage": s.settings.storage.split(":", 1)[0], "version": __version__}


async def metrics() -> ConnexionResponse:
    """This process's counts and the store's, in Prometheus' text format (see http/metrics.py)."""
    from codestand.http.metrics import CONTENT_TYPE

    body = current().metrics.exposition()
    return ConnexionResponse(status_code=200, body=body, mimetype="text/plain", content_type=CONTENT_TYPE)


async def reset_all() -> tuple[None, int]:
    s = current()
    s.store.reset()
    s.clock.reset()
    if s.ti is not None:
        s.ti.reset()
    return None, 204


async def reset_tenant(tenant: str) -> tuple[None, int]:
    s = current()
    s.store.reset(tenant)
    if s.ti is not None:
        s.ti.reset(tenant)
    return None, 204


async def get_catalog(tenant: str) -> dict:
    return _catalog_body(current().store.catalog(tenant))


async def add_catalog(tenant: str, body: dict) -> dict:
    store = current().store
    for kind, entries in _items(body).items():
        store.put_catalog_items(tenant, kind, entries)
    return _catalog_body(store.catalog(tenant))


async def replace_catalog(tenant: str, body: dict) -> dict:
    store = current().store
    store.replace_catalog(tenant, _items(body))
    return _catalog_body(store.catalog(tenant))


async def group_codes(tenant: str, id: str, format: str = "json"):
    store = current().store
    redemption_groups.get(store, tenant, id)
    codes = store.group_codes(tenant, id)
    redeemed = store.redeemed_codes(tenant, id)
    if format == "csv":
        # One code a line under a `code` header: what a spreadsheet of the admin UI's export holds.
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "redeemed"])
        writer.writerows([code, "true" if code in redeemed else "false"] for code in codes)
        return ConnexionResponse(status_code=200, body=out.getvalue(), mimetype="text/csv", content_type="text/csv; charset=utf-8")
    # The spec offers two content types, so Connexion wants the one chosen named.
    body = {"codes": [{"code": code, "redeemed": code in redeemed} for code in codes]}
    return body, 200, {"Content-Type": "application/json"}


async def redeem(tenant: str, body: dict) -> tuple[dict, int]:
    s = current()
    group, event = redemptions.redeem(s.store, s.clock, tenant, body["code"], body["userId"].lower())
    return {
        "code": event.code,
        "redemptionCodeGroupId": group.id,
        "userId": event.user_id,
        "redeemedAt": iso_millis(event.occurred_at),
        "redeemedCodesCount": group.redeemed_codes,
    }, 201


async def use_promotion_code(tenant: str, body: dict) -> tuple[dict, int]:
    s = current()
    promotion, code = promotion_codes.use(s.store, s.clock, tenant, body["code"], body.get("user"))
    return {"code": code.code, "promotion_id": promotion.id, "uses_left": code.uses_left}, 201


async def export_snapshot(tenant: str) -> dict:
    return snapshots.export(current().store, tenant)


async def import_snapshot(tenant: str, body: dict) -> tuple[None, int]:
    snapshots.restore(current().store, tenant, body)
    return None, 204


async def get_clock() -> dict:
    return _clock_body()


async def set_clock(body: dict) -> dict:
    clock = current().clock
    moment = parse_datetime(body["now"])
    # A date-time without an offset is UTC, as everywhere else in the stand-in.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if body.get("frozen"):
        clock.freeze(moment)
    else:
        clock.set(moment)
    return _clock_body()


async def advance_clock(body: dict) -> dict:
    current().clock.advance(timedelta(seconds=body["seconds"]))
    return _clock_body()


async def reset_clock() -> dict:
    current().clock.reset()
    return _clock_body()


def _clock_body() -> dict:
    clock = current().clock
    return {"now": iso_millis(clock.now()), "frozen": clock.frozen}


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


# `/__codestand/faults`: rules that make vendor routes slow, fail or hang up.

async def list_faults() -> dict:
    return {"faults": [rule.to_json() for rule in current().faults.rules()]}


async def add_fault(body: dict) -> tuple[dict, int]:
    return current().faults.add(body).to_json(), 201


async def clear_faults() -> tuple[None, int]:
    current().faults.clear()
    return None, 204


async def remove_fault(id: str) -> tuple[None, int]:
    if not current().faults.remove(id):
        raise NotFound(Problem("fault_not_found"))
    return None, 204


# `/__codestand/journal`: the vendor requests the stand-in answered, newest first.

async def list_entries(
    path: str | None = None,
    method: str | None = None,
    status: str | None = None,
    tenant: str | None = None,
    limit: int | None = None,
) -> dict:
    entries = current().journal.entries(path=path, method=method, status=status, tenant=tenant, limit=limit)
    return {"entries": entries}


async def clear() -> tuple[None, int]:
    current().journal.clear()
    return None, 204
