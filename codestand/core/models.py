"""The records both vendors keep, as the domain and the stores see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """A course, bundle, license, learning path or client a group can give access to."""

    id: str
    name: str
    placeholder: bool = False


@dataclass(frozen=True, slots=True)
class RedemptionGroup:
    """A Thought Industries redemption code group; its codes are stored beside it."""

    id: str
    label: str
    code_length: int
    total_codes: int
    created_at: datetime
    expiration_date: str | None = None
    access_days: int | None = None
    access_expiration_date: str | None = None
    client: CatalogItem | None = None
    courses: tuple[CatalogItem, ...] = ()
    learning_paths: tuple[CatalogItem, ...] = ()
    bundles: tuple[CatalogItem, ...] = ()
    licenses: tuple[CatalogItem, ...] = ()
    redeemed_codes: int = 0
    # Codes the admin uploaded rather than generated, and the admin UI's gift groups (support
    # article "Managing Learners with Redemption Codes"); both shown by get and list.
    uploaded: bool = False
    gift: bool = False
    # The store's creation order, set when the group is stored: the tie-break of every sort and
    # part of a list cursor's position. Bookkeeping, not part of what a group is.
    seq: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class RedemptionEvent:
    """A learner redeemed a Thought Industries code (the vendor's `redemptionCodeRedeem` event)."""

    id: str
    code: str
    group_id: str
    user_id: str
    occurred_at: datetime
    # The store's order of recording, set when the event is stored: the feed's tie-break.
    seq: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list and the size of the whole list."""

    items: list = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True, slots=True)
class Token:
    """A Moltin access token: whose store it opens, how it was granted, when it lapses."""

    token: str
    tenant: str
    grant: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Promotion:
    """A Moltin promotion. `automatic` is None when the client never set it."""

    id: str
    name: str
    description: str
    enabled: bool
    promotion_type: str
    schema: dict
    start: datetime
    end: datetime
    created_at: datetime
    updated_at: datetime
    automatic: bool | None = None
    # min_cart_value, max_discount_value, max_applications_per_cart: kept only when sent.
    extras: dict = field(default_factory=dict)
    # Who created and last changed it (the vendor's `created_by` / `updated_by`); None for
    # records kept before the stand-in recorded them, as the vendor omits them for old ones.
    created_by: str | None = None
    updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class PromotionCode:
    """A code of a promotion; `uses` None is unlimited."""

    code: str
    uses: int | None = None
    user: str | tuple[str, ...] | None = None  # one customer id, or several
    consume_unit: str = "per_cart"
    used: int = 0  # how many times a shopper has used it
    created_at: datetime | None = None  # None for records kept before the stand-in recorded it
    created_by: str | None = None

    def allows(self, user: str | None) -> bool:
        """Whether `user` may use the code: anyone when it names none."""
        if self.user is None:
            return True
        return user in self.user if isinstance(self.user, tuple) else user == self.user

    @property
    def uses_left(self) -> int | None:
        return None if self.uses is None else self.uses - self.used


@dataclass(frozen=True, slots=True)
class PromotionJob:
    """A Moltin promotion job (`code_generate`, `code_export`), as the vendor's jobs API shows it.

    `codes` are those a running `code_generate` made (for a cancel to delete); `file` is a
    finished export's CSV.
    """

    id: str
    promotion_id: str
    job_type: str
    status: str
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    parameters: dict = field(default_factory=dict)
    created_by: str | None = None
    result: dict | None = None
    error: str | None = None
    codes: tuple[str, ...] = ()
    file: str | None = None


@dataclass(frozen=True, slots=True)
class PromotionUsage:
    """One use of a Moltin promotion code, as the vendor's usages API shows it."""

    id: str
    promotion_id: str
    code: str
    code_id: str
    used_on: datetime
    updated_at: datetime
    times_used: int = 1
    order_id: str | None = None
    customer_id: str | None = None
    customer_email: str | None = None
    anonymized: bool = False
    updated_by: str | None = None
