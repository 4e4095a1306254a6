"""The in-memory backend: fast, per process, gone on restart.

Thought Industries' records, the catalog and the store's own housekeeping are here; Moltin's
(tokens, promotions, their codes, history, jobs and usages) are `memory_moltin`'s, on the same
tenants under the same lock.
"""

from __future__ import annotations

import gc
import itertools
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from codestand.core.models import (
    CatalogItem,
    Page,
    Promotion,
    PromotionCode,
    PromotionJob,
    PromotionUsage,
    RedemptionEvent,
    RedemptionGroup,
    Token,
)
from codestand.storage.base import (
    CATALOG_KINDS,
    AlreadyUsed,
    CodesTaken,
    GroupPosition,
    Storage,
)
from codestand.storage.memory_moltin import MoltinMemory

_SORT_KEYS = {
    "label": lambda g: (g.label.casefold(), g.label),
    "totalCodesCount": lambda g: g.total_codes,
    "redeemedCodesCount": lambda g: g.redeemed_codes,
}


# Each sort's key of a group, and the same key of a cursor's position (`GroupPosition`).
_KEYSET = {
    None: lambda g: g.seq,
    "label": lambda g: g.label.casefold().encode()[:96],  # thoughtindustries.cursors.LABEL_KEY_BYTES
    "totalCodesCount": lambda g: g.total_codes,
    "redeemedCodesCount": lambda g: g.redeemed_codes,
}
_POSITION_KEY = {
    None: lambda p: p.seq,
    "label": lambda p: p.label,
    "totalCodesCount": lambda p: p.total,
    "redeemedCodesCount": lambda p: p.redeemed,
}


@dataclass
class _Tenant:
    catalog: dict[str, dict[str, CatalogItem]] = field(default_factory=lambda: defaultdict(dict))
    groups: dict[str, RedemptionGroup] = field(default_factory=dict)  # insertion = creation order
    # Tuples, not lists: the collector stops tracking a tuple of strings once it has seen it, and
    # a store of many groups is otherwise walked again by every full collection.
    group_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> group id
    redeemed: set[str] = field(default_factory=set)
    events: list[RedemptionEvent] = field(default_factory=list)
    codes_by_length: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    promotions: dict[str, Promotion] = field(default_factory=dict)  # insertion = creation order
    promotion_codes: dict[str, dict[str, PromotionCode]] = field(default_factory=dict)
    promotion_of_code: dict[str, str] = field(default_factory=dict)  # code -> promotion id
    promotion_versions: dict[str, list[Promotion]] = field(default_factory=lambda: defaultdict(list))
    jobs: dict[str, PromotionJob] = field(default_factory=dict)  # insertion = creation order
    usages: dict[str, PromotionUsage] = field(default_factory=dict)  # insertion = the order of use
    settings: dict[str, object] = field(default_factory=dict)  # the control plane's switches, by name


class MemoryStorage(MoltinMemory, Storage):
    def __init__(self, *, freeze_every: int | None = None) -> None:
        """`freeze_every`: after this many records stored, move everything the process holds
        out of the garbage collector's passes (`gc.freeze()`; the server sets it, see `_stored`)."""
        self._freeze_every = freeze_every
        self._since_freeze = 0
        self._tenants: dict[str, _Tenant] = defaultdict(_Tenant)
        self._tokens: dict[str, Token] = {}
        # One lock for the whole store: every operation is short, and a check-then-write
        # (codes unique within a tenant) must not interleave with another writer.
        self._lock = threading.RLock()
        # Creation order of groups and events, across tenants and resets, as SQLite's rowids.
        self._seq = itertools.count(1)

    def _stored(self, count: int) -> None:
        """Stored records live until a reset, yet a full collection walks every one of them: on a
        store of a million codes that pass was the p99 of every request (BENCHMARKS.md). Frozen,
        they are left out of it; they are still freed by reference counting when deleted."""
        if self._freeze_every is None:
            return
        self._since_freeze += count
        if self._since_freeze >= self._freeze_every:
            self._since_freeze = 0
            gc.freeze()

    def catalog_items(self, tenant: str, kind: str, ids: Iterable[str]) -> dict[str, CatalogItem]:
        with self._lock:
            own = self._tenants[tenant].catalog[kind]
            return {i: own[i] for i in ids if i in own}

    def put_catalog_items(self, tenant: str, kind: str, items: Iterable[CatalogItem]) -> None:
        with self._lock:
            self._tenants[tenant].catalog[kind].update((item.id, item) for item in items)

    def catalog(self, tenant: str) -> dict[str, list[CatalogItem]]:
        with self._lock:
            own = self._tenants[tenant].catalog if tenant in self._tenants else {}
            return {kind: list(own.get(kind, {}).values()) for kind in CATALOG_KINDS}

    def replace_catalog(self, tenant: str, items: dict[str, list[CatalogItem]]) -> None:
        with self._lock:
            catalog = self._tenants[tenant].catalog
            catalog.clear()
            for kind, entries in items.items():
                catalog[kind].update((item.id, item) for item in entries)

    def ping(self) -> None:
        with self._lock:
            return None

    def stored_codes(self) -> dict[str, int]:
        with self._lock:
            tenants = list(self._tenants.values())
        return {
            "thoughtindustries": sum(len(t.codes) for t in tenants),
            "moltin": sum(len(t.promotion_of_code) for t in tenants),
        }

    def unfinished_job_counts(self) -> dict[str, int]:
        with self._lock:
            statuses = Counter(j.status for t in self._tenants.values() for j in t.jobs.values())
        return {status: statuses[status] for status in ("pending", "processing")}

    def create_group(self, tenant: str, group: RedemptionGroup, codes: list[str]) -> None:
        with self._lock:
            state = self._tenants[tenant]
            clash = {code for code in codes if code in state.codes}
            if clash or len(set(codes)) != len(codes):
                raise CodesTaken(clash or {c for c, n in Counter(codes).items() if n > 1})
            group = replace(group, seq=next(self._seq))
            state.groups[group.id] = group
            state.group_codes[group.id] = tuple(codes)
            state.codes.update((code, group.id) for code in codes)
            for code in codes:
                state.codes_by_length[len(code)] += 1
            self._stored(len(codes))

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
            return list(self._tenants[tenant].group_codes.get(group_id, ())) if tenant in self._tenants else []

    def find_code(self, tenant: str, code: str) -> tuple[str, bool] | None:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is None or code not in state.codes:
                return None
            return state.codes[code], code in state.redeemed

    def redeem_code(self, tenant: str, event: RedemptionEvent) -> RedemptionGroup:
        with self._lock:
            state = self._tenants[tenant]
            if event.code in state.redeemed:
                raise AlreadyUsed()
            group = state.groups[event.group_id]
            group = replace(group, redeemed_codes=group.redeemed_codes + 1)
            state.groups[group.id] = group
            state.redeemed.add(event.code)
            state.events.append(replace(event, seq=next(self._seq)))
            return group

    def redeemed_codes(self, tenant: str, group_id: str) -> set[str]:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is None:
                return set()
            return {c for c in state.group_codes.get(group_id, ()) if c in state.redeemed}

    def list_redemption_events(
        self,
        tenant: str,
        *,
        offset: int,
        limit: int,
        start: datetime | None = None,
        end: datetime | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> Page:
        with self._lock:
            events = list(self._tenants[tenant].events) if tenant in self._tenants else []
        events = [
            e
            for e in events
            if (start is None or e.occurred_at >= start)
            and (end is None or e.occurred_at < end)
            and (user_id is None or e.user_id == user_id)
            and (group_id is None or e.group_id == group_id)
        ]
        return Page(items=events[offset : offset + limit], total=len(events))

    # Keyset pages, uploaded codes, gifts (issue 14) -------------------------------------------
    def group_page(
        self,
        tenant: str,
        *,
        query: str | None,
        sort: str | None,
        descending: bool,
        after: GroupPosition | None,
        limit: int,
    ) -> Page:
        with self._lock:
            groups = list(self._tenants[tenant].groups.values()) if tenant in self._tenants else []
        if query:
            needle = query.casefold()
            groups = [g for g in groups if needle in g.label.casefold()]
        key = _KEYSET[sort]
        # Creation order first; the sort is stable (also reversed), so ties keep it.
        ordered = sorted(sorted(groups, key=lambda g: g.seq), key=key, reverse=descending)
        if after is not None:
            mark = _POSITION_KEY[sort](after)
            if descending:
                ordered = [g for g in ordered if key(g) < mark or (key(g) == mark and g.seq > after.seq)]
            else:
                ordered = [g for g in ordered if (key(g), g.seq) > (mark, after.seq)]
        return Page(items=ordered[:limit], total=len(groups))

    def event_page(
        self,
        tenant: str,
        *,
        after: tuple[datetime, int] | None,
        limit: int,
        start: datetime | None = None,
        end: datetime | None = None,
        user_id: str | None = None,
        group_id: str | None = None,
    ) -> Page:
        with self._lock:
            events = list(self._tenants[tenant].events) if tenant in self._tenants else []
        events = sorted(
            (
                e
                for e in events
                if (start is None or e.occurred_at >= start)
                and (end is None or e.occurred_at <= end)
                and (user_id is None or e.user_id == user_id)
                and (group_id is None or e.group_id == group_id)
            ),
            key=lambda e: (e.occurred_at, e.seq),
        )
        later = events if after is None else [e for e in events if (e.occurred_at, e.seq) > after]
        return Page(items=later[:limit], total=len(events))

    def add_group_codes(self, tenant: str, group_id: str, codes: list[str], *, uploaded: bool) -> RedemptionGroup | None:
        with self._lock:
            state = self._tenants.get(tenant)
            group = state.groups.get(group_id) if state else None
            if group is None:
                return None
            clash = {code for code in codes if code in state.codes}
            if clash or len(set(codes)) != len(codes):
                raise CodesTaken(clash or {c for c in codes if codes.count(c) > 1})
            group = replace(group, total_codes=group.total_codes + len(codes), uploaded=group.uploaded or uploaded)
            state.groups[group_id] = group
            state.group_codes[group_id] = (*state.group_codes.get(group_id, ()), *codes)
            state.codes.update((code, group_id) for code in codes)
            for code in codes:
                state.codes_by_length[len(code)] += 1
            return group

    def set_group_gift(self, tenant: str, group_id: str, gift: bool) -> RedemptionGroup | None:
        with self._lock:
            state = self._tenants.get(tenant)
            group = state.groups.get(group_id) if state else None
            if group is None:
                return None
            group = state.groups[group_id] = replace(group, gift=gift)
            return group

    def delete_group(self, tenant: str, group_id: str) -> bool:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is None or state.groups.pop(group_id, None) is None:
                return False
            for code in state.group_codes.pop(group_id, ()):
                del state.codes[code]
                state.redeemed.discard(code)
                state.codes_by_length[len(code)] -= 1
            return True

    def tenant_setting(self, tenant: str, name: str) -> object | None:
        with self._lock:
            state = self._tenants.get(tenant)
            return state.settings.get(name) if state else None

    def set_tenant_setting(self, tenant: str, name: str, value: object | None) -> None:
        with self._lock:
            if value is None:
                state = self._tenants.get(tenant)
                if state is not None:
                    state.settings.pop(name, None)
            else:
                self._tenants[tenant].settings[name] = value

    def reset(self, tenant: str | None = None) -> None:
        with self._lock:
            # Tokens are credentials, not state: they survive a reset, as API keys do, so that
            # a client need not authenticate again after each test's reset.
            if tenant is None:
                self._tenants.clear()
            else:
                self._tenants.pop(tenant, None)
