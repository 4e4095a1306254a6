"""The control plane (`/__codestand/...`, described in `control.yaml`)."""

from __future__ import annotations

from datetime import timedelta, timezone

from connexion.lifecycle import ConnexionResponse

from codestand import __version__
from codestand.context import current
from codestand.control import snapshots, tenant_routes
from codestand.core import tenants
from codestand.core.clock import iso_millis, parse_datetime
from codestand.core.errors import NotFound, Problem, Unavailable


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
    s.tenants.forget()
    s.clock.reset()
    if s.ti is not None:
        s.ti.reset()
    if s.moltin_limits is not None:
        s.moltin_limits.reset()
    return None, 204


# Tenant routes of earlier versions, `/__codestand/tenants/{tenant}/...`, which name no vendor
# (`tenant_routes` has the routes that do). A route only one vendor has means that vendor's
# tenant; a reset and a snapshot mean both vendors' tenants of that name.

async def reset_tenant(tenant: str) -> tuple[None, int]:
    tenant_routes.reset(tenants.ti(tenant), tenants.moltin(tenant))
    return None, 204


async def get_catalog(tenant: str) -> dict:
    return await tenant_routes.ti_get_catalog(tenant)


async def add_catalog(tenant: str, body: dict) -> dict:
    return await tenant_routes.ti_add_catalog(tenant, body)


async def replace_catalog(tenant: str, body: dict) -> dict:
    return await tenant_routes.ti_replace_catalog(tenant, body)


async def group_codes(tenant: str, id: str, format: str = "json"):
    return await tenant_routes.ti_group_codes(tenant, id, format)


async def redeem(tenant: str, body: dict) -> tuple[dict, int]:
    return await tenant_routes.ti_redeem(tenant, body)


async def use_promotion_code(tenant: str, body: dict) -> tuple[dict, int]:
    return await tenant_routes.moltin_use_code(tenant, body)


async def export_snapshot(tenant: str) -> dict:
    return snapshots.export(current().store, tenants.ti(tenant), tenants.moltin(tenant))


async def import_snapshot(tenant: str, body: dict) -> tuple[None, int]:
    tenant_routes.restore(body, tenants.ti(tenant), tenants.moltin(tenant))
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
