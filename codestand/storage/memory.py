"""The in-memory backend: fast, per process, gone on restart."""

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
from codestand.moltin.tokens import LIFETIME
from codestand.storage.base import (
    GroupPosition,
    CATALOG_KINDS,
    AlreadyUsed,
    CodesTaken,
    QuotaExceeded,
    Storage,
)

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


class MemoryStorage(Storage):
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

    def save_token(self, token: Token) -> None:
        with self._lock:
            self._tokens[token.token] = token
            self._stored(1)
            if len(self._tokens) % 1024 == 0:
                # Lapsed tokens are useless; dropping them now and then keeps memory flat.
                self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > token.expires_at - LIFETIME}

    def find_token(self, token: str) -> Token | None:
        with self._lock:
            return self._tokens.get(token)

    def add_promotion(self, tenant: str, promotion: Promotion, limit: int) -> None:
        with self._lock:
            state = self._tenants[tenant]
            if len(state.promotions) >= limit:
                raise QuotaExceeded()
            state.promotions[promotion.id] = promotion
            state.promotion_codes[promotion.id] = {}

    def get_promotion(self, tenant: str, promotion_id: str) -> Promotion | None:
        with self._lock:
            return self._tenants[tenant].promotions.get(promotion_id) if tenant in self._tenants else None

    def list_promotions(self, tenant: str, *, offset: int, limit: int, code: str | None = None) -> Page:
        with self._lock:
            if tenant not in self._tenants:
                return Page()
            state = self._tenants[tenant]
            if code is not None:
                owner = state.promotion_of_code.get(code)
                promotions = [state.promotions[owner]] if owner else []
            else:
                promotions = list(state.promotions.values())
        return Page(items=promotions[offset : offset + limit], total=len(promotions))

    def replace_promotion(self, tenant: str, promotion: Promotion, *, drop_codes: bool) -> None:
        with self._lock:
            state = self._tenants[tenant]
            if promotion.id not in state.promotions:
                raise KeyError(promotion.id)  # deleted since the domain read it
            state.promotions[promotion.id] = promotion
            if drop_codes:
                self._drop_codes(state, promotion.id, list(state.promotion_codes[promotion.id]))

    def delete_promotion(self, tenant: str, promotion_id: str) -> bool:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is None or promotion_id not in state.promotions:
                return False
            self._drop_codes(state, promotion_id, list(state.promotion_codes[promotion_id]))
            del state.promotions[promotion_id], state.promotion_codes[promotion_id]
            state.promotion_versions.pop(promotion_id, None)
            for job_id in [j.id for j in state.jobs.values() if j.promotion_id == promotion_id]:
                del state.jobs[job_id]
            for usage_id in [u.id for u in state.usages.values() if u.promotion_id == promotion_id]:
                del state.usages[usage_id]
            return True

    # Moltin promotion usages ---------------------------------------------------------
    def add_promotion_usage(self, tenant: str, usage: PromotionUsage) -> None:
        with self._lock:
            self._tenants[tenant].usages[usage.id] = usage

    def list_promotion_usages(self, tenant: str, promotion_id: str) -> list[PromotionUsage]:
        with self._lock:
            state = self._tenants.get(tenant)
            return [u for u in state.usages.values() if u.promotion_id == promotion_id] if state else []

    def replace_promotion_usages(self, tenant: str, usages: list[PromotionUsage]) -> None:
        with self._lock:
            state = self._tenants.get(tenant)
            for usage in usages:
                if state is not None and usage.id in state.usages:
                    state.usages[usage.id] = usage

    def get_promotion_usages(self, tenant: str, ids: Iterable[str]) -> list[PromotionUsage]:
        with self._lock:
            state = self._tenants.get(tenant)
            return [state.usages[i] for i in ids if i in state.usages] if state else []

    # Moltin promotion history and jobs -----------------------------------------------
    def add_promotion_version(self, tenant: str, promotion: Promotion) -> None:
        with self._lock:
            self._tenants[tenant].promotion_versions[promotion.id].append(promotion)

    def list_promotion_versions(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
        with self._lock:
            state = self._tenants.get(tenant)
            versions = state.promotion_versions.get(promotion_id, []) if state else []
            return Page(items=versions[offset : offset + limit], total=len(versions))

    def add_promotion_job(self, tenant: str, job: PromotionJob) -> None:
        with self._lock:
            self._tenants[tenant].jobs[job.id] = job

    def replace_promotion_job(self, tenant: str, job: PromotionJob) -> None:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is not None and job.id in state.jobs:
                state.jobs[job.id] = job

    def get_promotion_job(self, tenant: str, promotion_id: str, job_id: str) -> PromotionJob | None:
        with self._lock:
            state = self._tenants.get(tenant)
            job = state.jobs.get(job_id) if state else None
            return job if job is not None and job.promotion_id == promotion_id else None

    def list_promotion_jobs(self, tenant: str, promotion_id: str) -> list[PromotionJob]:
        with self._lock:
            state = self._tenants.get(tenant)
            return [j for j in state.jobs.values() if j.promotion_id == promotion_id] if state else []

    def unfinished_promotion_jobs(self, tenant: str) -> list[PromotionJob]:
        with self._lock:
            state = self._tenants.get(tenant)
            return [j for j in state.jobs.values() if j.status in ("pending", "processing")] if state else []

    def add_promotion_codes(self, tenant: str, promotion: Promotion, codes: list[PromotionCode], limit: int) -> None:
        with self._lock:
            state = self._tenants[tenant]
            strings = [c.code for c in codes]
            clash = {s for s in strings if s in state.promotion_of_code}
            clash |= {s for s in strings if strings.count(s) > 1} if len(set(strings)) != len(strings) else set()
            if clash:
                raise CodesTaken(clash)
            existing = state.promotion_codes[promotion.id]
            if len(existing) + len(codes) > limit:
                raise QuotaExceeded()
            existing.update((c.code, c) for c in codes)
            state.promotion_of_code.update((c.code, promotion.id) for c in codes)
            state.promotions[promotion.id] = promotion
            self._stored(len(codes))

    def list_promotion_codes(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
        with self._lock:
            state = self._tenants.get(tenant)
            codes = list(state.promotion_codes.get(promotion_id, {}).values()) if state else []
        return Page(items=codes[offset : offset + limit], total=len(codes))

    def promotion_code_count(self, tenant: str, promotion_id: str) -> int:
        with self._lock:
            state = self._tenants.get(tenant)
            return len(state.promotion_codes.get(promotion_id, {})) if state else 0

    def find_promotion_code(self, tenant: str, code: str) -> tuple[Promotion, PromotionCode] | None:
        with self._lock:
            state = self._tenants.get(tenant)
            owner = state.promotion_of_code.get(code) if state else None
            if owner is None:
                return None
            return state.promotions[owner], state.promotion_codes[owner][code]

    def use_promotion_code(self, tenant: str, promotion_id: str, code: str) -> PromotionCode:
        with self._lock:
            codes = self._tenants[tenant].promotion_codes[promotion_id]
            found = codes[code]
            if found.uses_left is not None and found.uses_left <= 0:
                raise AlreadyUsed()
            codes[code] = replace(found, used=found.used + 1)
            return codes[code]

    def delete_promotion_codes(self, tenant: str, promotion_id: str, codes: Iterable[str]) -> int:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is None or promotion_id not in state.promotion_codes:
                return 0
            return self._drop_codes(state, promotion_id, codes)

    @staticmethod
    def _drop_codes(state: _Tenant, promotion_id: str, codes: Iterable[str]) -> int:
        own = state.promotion_codes[promotion_id]
        dropped = 0
        for code in codes:
            if own.pop(code, None) is not None:
                del state.promotion_of_code[code]
                dropped += 1
        return dropped

    def reset(self, tenant: str | None = None) -> None:
        with self._lock:
            # Tokens are credentials, not state: they survive a reset, as API keys do, so that
            # a client need not authenticate again after each test's reset.
            if tenant is None:
                self._tenants.clear()
            else:
                self._tenants.pop(tenant, None)
