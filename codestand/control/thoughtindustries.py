"""Control routes that play a Thought Industries admin: uploaded, added and gift codes, deleting a
group, and a tenant's rate limits (`control.yaml`; the rules are in `thoughtindustries.uploads`).

Each is served at `/__codestand/thoughtindustries/tenants/{tenant}/...` (the `ti_` names) and,
for earlier versions, at `/__codestand/tenants/{tenant}/...`: the same operation either way."""

from __future__ import annotations

from codestand.context import current
from codestand.core import tenants
from codestand.thoughtindustries import uploads
from codestand.thoughtindustries.handlers import vendor_group


async def upload_group(tenant: str, body: dict) -> tuple[dict, int]:
    s = current()
    group = uploads.upload(s.store, s.clock, s.seed, tenants.ti(tenant), body, strict_catalog=s.settings.strict_catalog)
    return vendor_group(group, listed=True), 201


async def add_group_codes(tenant: str, id: str, body: dict) -> dict:
    return vendor_group(uploads.add_codes(current().store, tenants.ti(tenant), id, body), listed=True)


async def set_gift(tenant: str, id: str, body: dict) -> dict:
    return vendor_group(uploads.set_gift(current().store, tenants.ti(tenant), id, body["gift"]), listed=True)


async def delete_group(tenant: str, id: str) -> tuple[None, int]:
    uploads.delete(current().store, tenants.ti(tenant), id)
    return None, 204


async def get_rate_limits(tenant: str) -> dict:
    return current().ti.limits(tenant)


async def set_rate_limits(tenant: str, body: dict) -> dict:
    return current().ti.set_limits(tenant, body)


# The vendor-named routes (`core.tenants`): the same operations.
ti_upload_group = upload_group
ti_add_group_codes = add_group_codes
ti_set_gift = set_gift
ti_delete_group = delete_group
ti_get_rate_limits = get_rate_limits
ti_set_rate_limits = set_rate_limits
