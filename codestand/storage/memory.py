"""The in-memory backend: fast, per process, gone on restart."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from codestand.domain.models import CatalogItem, Page, RedemptionGroup
from codestand.storage.base import CodesTaken, Storage

_SORT_KEYS = {
    "label": lambda g: (g.label.casefold(), g.label),
    "totalCodesCount": lambda g: g.total_codes,
    "redeemedCodesCount": lambda g: g.redeemed_codes,
}


@dataclass
class _Tenant:
    catalog: dict[str, dict[str, CatalogItem]] = field(default_factory=lambda: defaultdict(dict))
    groups: dict[str, RedemptionGroup] = field(default_factory=dict)  # insertion = creation order
    group_codes: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> group id
    codes_by_length: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self._tenants: dict[str, _Tenant] = defaultdict(_Tenant)
        # One lock for the whole store: every operation is short, and a check-then-write
        # (codes unique within a tenant) must not interleave with another writer.
        self._lock = threading.RLock()

    def catalog_items(self, tenant: str, kind: str, ids: Iterable[str]) -> dict[str, CatalogItem]:
        with self._lock:
            own = self._tenants[tenant].catalog[kind]
            return {i: own[i] for i in ids if i in own}

    def put_catalog_items(self, tenant: str, kind: str, items: Iterable[CatalogItem]) -> None:
        with self._lock:
            self._tenants[tenant].catalog[kind].update((item.id, item) for item in items)

    def create_group(self, tenant: str, group: RedemptionGroup, codes: list[str]) -> None:
        with self._lock:
            state = self._tenants[tenant]
            clash = {code for code in codes if code in state.codes}
            if clash or len(set(codes)) != len(codes):
                raise CodesTaken(clash or {c for c in codes if codes.count(c) > 1})
            state.groups[group.id] = group
            state.group_codes[group.id] = list(codes)
            state.codes.update((code, group.id) for code in codes)
            for code in codes:
                state.codes_by_length[len(code)] += 1

    def get_group(self, tenant: str, group_id: str) -> RedemptionGroup | None:
        with self._lock:
            return self._tenants[tenant].groups.get(group_id) if tenant in self._tenants else None

    def list_groups(
        self, tenant: str, *, query: str | None, sort: str | None, descending: bool, offset: int, limit: int
    ) -> Page:
        with self._lock:
            groups = list(self._tenants[tenant].groups.values()) if tenant in self._tenants else []
        if query:
            needle = query.casefold()
            groups = [g for g in groups if needle in g.label.casefold()]
        if sort:
            # Python's sort is stable, so ties keep creation order.
            groups.sort(key=_SORT_KEYS[sort], reverse=descending)
        elif descending:
            groups.reverse()
        return Page(items=groups[offset : offset + limit], total=len(groups))

    def codes_taken(self, tenant: str, codes: Iterable[str]) -> set[str]:
        with self._lock:
            known = self._tenants[tenant].codes if tenant in self._tenants else {}
            return {code for code in codes if code in known}

    def code_count(self, tenant: str, length: int) -> int:
        with self._lock:
            return self._tenants[tenant].codes_by_length[length] if tenant in self._tenants else 0

    def group_codes(self, tenant: str, group_id: str) -> list[str]:
        with self._lock:
            return list(self._tenants[tenant].group_codes.get(group_id, [])) if tenant in self._tenants else []

    def reset(self, tenant: str | None = None) -> None:
        with self._lock:
            if tenant is None:
                self._tenants.clear()
            else:
                self._tenants.pop(tenant, None)
