"""The in-memory backend's Moltin records: tokens, promotions and their codes, history, jobs and
usages. A mixin of `MemoryStorage`, whose tenants (`_Tenant`) and lock it uses, so that a write
of either vendor is one step under one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from codestand.core.models import (
    Page,
    Promotion,
    PromotionCode,
    PromotionJob,
    PromotionUsage,
    Token,
)
from codestand.moltin.tokens import LIFETIME
from codestand.storage.base import AlreadyUsed, CodesTaken, QuotaExceeded

if TYPE_CHECKING:
    from codestand.storage.memory import _Tenant


class MoltinMemory:
    _tenants: dict[str, _Tenant]
    _tokens: dict[str, Token]
    _lock: threading.RLock
    _stored: Callable[[int], None]  # MemoryStorage's: counts records for gc.freeze

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

    def replace_promotion_job(self, tenant: str, job: PromotionJob, expected: PromotionJob | None = None) -> bool:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is None or job.id not in state.jobs or (expected is not None and state.jobs[job.id] != expected):
                return False
            state.jobs[job.id] = job
            return True

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

    def use_promotion_code(self, tenant: str, promotion_id: str, code: str, usage: PromotionUsage | None = None) -> PromotionCode:
        with self._lock:
            codes = self._tenants[tenant].promotion_codes[promotion_id]
            found = codes[code]
            if found.uses_left is not None and found.uses_left <= 0:
                raise AlreadyUsed()
            codes[code] = replace(found, used=found.used + 1)
            if usage is not None:
                self._tenants[tenant].usages[usage.id] = usage
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
