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


@dataclass(frozen=True, slots=True)
class PromotionCode:
    """A code of a promotion; `uses` None is unlimited."""

    code: str
    uses: int | None = None
    user: str | None = None
    consume_unit: str = "per_cart"
    used: int = 0  # how many times a shopper has used it

    @property
    def uses_left(self) -> int | None:
        return None if self.uses is None else self.uses - self.used
