"""The storage interface, phrased in the domain's words.

Every record belongs to a tenant (a Thought Industries API key, a Moltin client_id); no method
reads across tenants. What must hold even under concurrent writers is the store's job, not the
caller's: a group is written with all its codes or not at all, and a code is unique within its
tenant.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from collections.abc import Iterable
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

CATALOG_KINDS = ("courses", "bundles", "licenses", "learningPaths", "clients")


@dataclass(frozen=True, slots=True)
class GroupPosition:
    """Where a page of groups starts: just after a group with these values, whichever the sort.

    A list cursor carries every sort key of the last group it showed, so a position is one in
    every order at once (the sort and query of the next request need not match the previous
    one's), and it stays a position when that group is deleted or changes meanwhile.
    `label` is the first 96 bytes of the UTF-8 of the case-folded label, the key labels sort by:
    byte order is code-point order, as in both stores, and a cursor's bytes need not be valid
    UTF-8 to have a place in it.
    """

    seq: int
    total: int
    redeemed: int
    label: bytes


class CodesTaken(Exception):
    """Some of the codes offered are already used within the tenant; nothing was written."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = codes
        super().__init__(f"{len(codes)} codes already in use")


class QuotaExceeded(Exception):
    """The write would take the tenant over a quota; nothing was written."""


class AlreadyUsed(Exception):
    """The code was redeemed already, or has no uses left; nothing was written."""


class StorageUnavailable(Exception):
    """The store cannot read or write right now: the disk is full, the file cannot be written,
    an I/O error, another process holding the lock too long. Nothing was written.

    Raised while serving, for a request to answer (503 in the vendor's shape); `reason` says
    what is wrong in words a client can act on. The store recovers by itself once the cause
    is gone.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class StorageError(Exception):
    """The store cannot be opened as asked; the message says which file or server and why.

    Raised at start, before anything is served, so the command line can say it plainly.
    """


class Storage(abc.ABC):
    # Several processes see one state through this store (PostgreSQL; SQLite shared by
    # workers): the control plane's clock, fault rules and journal are then kept in it too.
    shared = False
    # Its calls wait on I/O (a server, a file's lock): the app calls it off the event loop, in
    # up to `threads` threads at once.
    waits = False
    threads = 0

    # Catalog ---------------------------------------------------------------------------
    @abc.abstractmethod
    def catalog_items(self, tenant: str, kind: str, ids: Iterable[str]) -> dict[str, CatalogItem]:
        """The tenant's own items of `kind` among `ids` (the seed catalog is the domain's)."""

    @abc.abstractmethod
    def put_catalog_items(self, tenant: str, kind: str, items: Iterable[CatalogItem]) -> None:
        """Add or replace items of the tenant's catalog."""

    @abc.abstractmethod
    def catalog(self, tenant: str) -> dict[str, list[CatalogItem]]:
        """The tenant's own items of every kind, in the order they were first added."""

    @abc.abstractmethod
    def replace_catalog(self, tenant: str, items: dict[str, list[CatalogItem]]) -> None:
        """Make these the tenant's own items, of every kind at once."""

    # Redemption code groups ------------------------------------------------------------
    @abc.abstractmethod
    def create_group(self, tenant: str, group: RedemptionGroup, codes: list[str]) -> None:
        """Store a group and all its codes at once, or raise `CodesTaken` and store nothing."""

    @abc.abstractmethod
    def get_group(self, tenant: str, group_id: str) -> RedemptionGroup | None: ...

    @abc.abstractmethod
    def list_groups(
        self, tenant: str, *, query: str | None, sort: str | None, descending: bool, offset: int, limit: int
    ) -> Page:
        """Groups whose label contains `query` (any case), in creation order unless `sort`
        names a field (`label`, `totalCodesCount`, `redeemedCodesCount`)."""

    @abc.abstractmethod
    def codes_taken(self, tenant: str, codes: Iterable[str]) -> set[str]:
        """Which of `codes` the tenant already uses."""

    @abc.abstractmethod
    def code_count(self, tenant: str, length: int) -> int:
        """How many codes of `length` the tenant uses."""

    @abc.abstractmethod
    def group_codes(self, tenant: str, group_id: str) -> list[str]:
        """The codes of a group, in the order they were generated."""

    # Redemptions (a learner using a Thought Industries code) ------------------------------
    @abc.abstractmethod
    def find_code(self, tenant: str, code: str) -> tuple[str, bool] | None:
        """The group a code belongs to and whether it is redeemed, or None if the tenant has no such code."""

    @abc.abstractmethod
    def redeem_code(self, tenant: str, event: RedemptionEvent) -> RedemptionGroup:
        """Mark `event.code` redeemed, count it on its group and record the event, at once.

        Raises `AlreadyUsed` (and writes nothing) if the code is redeemed already.
        """

    @abc.abstractmethod
    def redeemed_codes(self, tenant: str, group_id: str) -> set[str]: ...

    @abc.abstractmethod
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
        """Events in the order they happened, `start <= occurred_at < end`."""

    # Thought Industries keyset pages, uploaded codes, gifts (issue 14) ------------------------
    @abc.abstractmethod
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
        """Up to `limit` groups whose label contains `query` (any case) that come after `after`
        in the order of `sort` (`label`: the case-folded label's first 96 UTF-8 bytes; `totalCodesCount`;
        `redeemedCodesCount`; None: creation), ties by creation order whichever the direction;
        `total` counts every match of `query`, wherever the position. Groups carry their `seq`.
        """

    @abc.abstractmethod
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
        """Up to `limit` events after the position `(occurred_at, seq)`, ordered by
        `(occurred_at, seq)`, with `start <= occurred_at <= end` (both inclusive); `total`
        counts every event of the filters, wherever the position. Events carry their `seq`."""

    @abc.abstractmethod
    def add_group_codes(self, tenant: str, group_id: str, codes: list[str], *, uploaded: bool) -> RedemptionGroup | None:
        """Add codes to a group, raising its `totalCodesCount` (and marking it `uploaded` if
        asked), at once; None if there is no such group. Raises `CodesTaken` (and writes
        nothing) if any code is used in the tenant already or twice in `codes`."""

    @abc.abstractmethod
    def set_group_gift(self, tenant: str, group_id: str, gift: bool) -> RedemptionGroup | None:
        """Mark a group as a gift group or not; None if there is no such group."""

    @abc.abstractmethod
    def delete_group(self, tenant: str, group_id: str) -> bool:
        """Delete a group and its codes (its redemption events stay); False if there was none."""

    # Moltin tokens ---------------------------------------------------------------------
    @abc.abstractmethod
    def save_token(self, token: Token) -> None: ...

    @abc.abstractmethod
    def find_token(self, token: str) -> Token | None: ...

    # Moltin promotions -----------------------------------------------------------------
    @abc.abstractmethod
    def add_promotion(self, tenant: str, promotion: Promotion, limit: int) -> None:
        """Store a new promotion, or raise `QuotaExceeded` if the store has `limit` already."""

    @abc.abstractmethod
    def get_promotion(self, tenant: str, promotion_id: str) -> Promotion | None: ...

    @abc.abstractmethod
    def list_promotions(self, tenant: str, *, offset: int, limit: int, code: str | None = None) -> Page:
        """Promotions in creation order; with `code`, only the promotion that has it."""

    @abc.abstractmethod
    def replace_promotion(self, tenant: str, promotion: Promotion, *, drop_codes: bool) -> None:
        """Write an updated promotion; with `drop_codes`, delete all its codes in the same write.

        Raises KeyError, writing nothing, if the promotion is gone (deleted since it was read).
        """

    @abc.abstractmethod
    def delete_promotion(self, tenant: str, promotion_id: str) -> bool:
        """Delete a promotion and its codes; False if there was none."""

    # Moltin promotion codes ------------------------------------------------------------
    @abc.abstractmethod
    def add_promotion_codes(self, tenant: str, promotion: Promotion, codes: list[PromotionCode], limit: int) -> None:
        """Add codes to a promotion and write the promotion (its new `updated_at`) at once.

        Raises `CodesTaken` if any code is already used in the store (or twice in `codes`),
        `QuotaExceeded` if the promotion would have more than `limit` codes, and KeyError if the
        promotion is gone; either way nothing is written.
        """

    @abc.abstractmethod
    def list_promotion_codes(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page: ...

    @abc.abstractmethod
    def promotion_code_count(self, tenant: str, promotion_id: str) -> int: ...

    @abc.abstractmethod
    def find_promotion_code(self, tenant: str, code: str) -> tuple[Promotion, PromotionCode] | None:
        """The promotion that has `code` in the store, and the code."""

    @abc.abstractmethod
    def use_promotion_code(self, tenant: str, promotion_id: str, code: str, usage: PromotionUsage | None = None) -> PromotionCode:
        """Count one use of a code and return it as it now is; with `usage`, record it in the
        same write (a use is counted with its usage, or neither is).

        Raises `AlreadyUsed` (and writes nothing) if it has no uses left.
        """

    @abc.abstractmethod
    def delete_promotion_codes(self, tenant: str, promotion_id: str, codes: Iterable[str]) -> int:
        """Delete those of `codes` the promotion has; how many were deleted."""

    # Moltin promotion history and jobs -----------------------------------------------
    # (A promotion's versions and jobs go with it when it is deleted.)
    @abc.abstractmethod
    def add_promotion_version(self, tenant: str, promotion: Promotion) -> None:
        """Keep the promotion as it now is, as the newest entry of its history."""

    @abc.abstractmethod
    def list_promotion_versions(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
        """A promotion's versions, oldest first."""

    @abc.abstractmethod
    def add_promotion_job(self, tenant: str, job: PromotionJob) -> None: ...

    @abc.abstractmethod
    def replace_promotion_job(self, tenant: str, job: PromotionJob, expected: PromotionJob | None = None) -> bool:
        """Write a job's new state (status, result, ...); whether it was written: not if the job
        is gone or, with `expected`, if it is no longer as `expected` shows it (another worker or
        replica moved it on first), so that each step of a job is taken once."""

    @abc.abstractmethod
    def get_promotion_job(self, tenant: str, promotion_id: str, job_id: str) -> PromotionJob | None: ...

    @abc.abstractmethod
    def list_promotion_jobs(self, tenant: str, promotion_id: str) -> list[PromotionJob]:
        """A promotion's jobs, in the order they were created."""

    @abc.abstractmethod
    def unfinished_promotion_jobs(self, tenant: str) -> list[PromotionJob]:
        """The store's pending and processing jobs, of every promotion, oldest first."""

    # Moltin promotion usages ---------------------------------------------------------
    @abc.abstractmethod
    def add_promotion_usage(self, tenant: str, usage: PromotionUsage) -> None: ...

    @abc.abstractmethod
    def list_promotion_usages(self, tenant: str, promotion_id: str) -> list[PromotionUsage]:
        """A promotion's usages, in the order they happened."""

    @abc.abstractmethod
    def replace_promotion_usages(self, tenant: str, usages: list[PromotionUsage]) -> None:
        """Write usages' new state (anonymized); those that are gone are passed over."""

    @abc.abstractmethod
    def get_promotion_usages(self, tenant: str, ids: Iterable[str]) -> list[PromotionUsage]:
        """Those of `ids` the store has, in the order asked."""

    # The stand-in's own switches of a tenant -----------------------------------------
    # (Set through the control plane: rate limits, a hold on promotion jobs. Kept in the store
    # so that every worker and replica on it sees them; a tenant's reset forgets them.)
    @abc.abstractmethod
    def tenant_setting(self, tenant: str, name: str) -> object | None:
        """The JSON value set under `name`, or None."""

    @abc.abstractmethod
    def set_tenant_setting(self, tenant: str, name: str, value: object | None) -> None:
        """Set a JSON value under `name`; None removes it."""

    # Whole store ----------------------------------------------------------------------
    @abc.abstractmethod
    def stored_codes(self) -> dict[str, int]:
        """How many codes the store holds of each vendor, all tenants together (for metrics):
        `thoughtindustries` (redemption codes) and `moltin` (promotion codes)."""

    @abc.abstractmethod
    def unfinished_job_counts(self) -> dict[str, int]:
        """How many promotion jobs are `pending` and `processing`, all tenants together (for
        metrics: the jobs waiting)."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be read (the control plane's health check)."""

    @abc.abstractmethod
    def reset(self, tenant: str | None = None) -> None:
        """Forget everything, or everything of one tenant; tokens stay valid until they lapse."""

    def close(self) -> None:
        """Let go of files or connections; a store with none has nothing to do."""
