"""Thought Industries' list cursors: keyset positions, stable while records come and go.

The vendor promises cursors that give "stable results even when the underlying data changes
between requests" (vendor page "Pagination"), which an offset cannot: a record created or deleted
before the offset shifts every later one. So a cursor names the last record shown, by the values
the list is ordered on, and the next page starts just after it.

- **Groups** (`GET /incoming/v2/redemptionCodes`): `g1.<seq>.<totalCodesCount>.
  <redeemedCodesCount>.<hex of the case-folded label's first 96 UTF-8 bytes>` of the last group shown. It
  carries every sort's key, so it is a position in every order at once: any string of that form
  (the contract's pattern) is a cursor the server could have issued, whatever `sort` and `query`
  come with it.
- **Events** (`GET /incoming/v2/events/redemptionCodeRedeem`): unpadded base64 of
  `<Unix ms>.<seq>` of the last event shown. The vendor's own example (`MTUxODM2NTg1Mzk5OQ`) is
  base64 of a bare Unix-ms instant (the REST overview: "pagination cursors use Unix
  milliseconds"); a bare instant is accepted too, meaning "after every event of that
  millisecond". The `.<seq>` tells apart events of one millisecond.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone

from codestand.core.errors import InvalidRequest, Problem
from codestand.core.models import RedemptionEvent, RedemptionGroup
from codestand.storage.base import GroupPosition

# The contract's patterns (openapi.yaml) say the same.
# Labels sort by the first `LABEL_KEY_BYTES` bytes of their case-folded UTF-8 (labels alike that
# far keep creation order), so that a cursor stays short enough for any URL.
LABEL_KEY_BYTES = 96
GROUP_CURSOR = re.compile(r"g1\.(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.((?:[0-9a-f]{2}){0,96})")
_EVENT_TEXT = re.compile(r"(-?(?:0|[1-9][0-9]{0,14}))(?:\.(0|[1-9][0-9]{0,17}))?")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Cursor instants stay within what a datetime holds (years 1 to 9999; the clock may be set to
# any of them, so an instant before 1970 is negative).
_MIN_MS, _MAX_MS = -62_135_596_800_000, 253_402_300_799_999
_LAST_SEQ = 2**63 - 1


def group_cursor(group: RedemptionGroup) -> str:
    label = group.label.casefold().encode()[:LABEL_KEY_BYTES].hex()
    return f"g1.{group.seq}.{group.total_codes}.{group.redeemed_codes}.{label}"


def group_position(value: str) -> GroupPosition:
    # A schema pattern's `$` lets one final newline through (Python's `re`); it names nothing.
    found = GROUP_CURSOR.fullmatch(value.removesuffix("\n"))
    if found is None:
        raise InvalidRequest(Problem("invalid_cursor", "cursor"))
    seq, total, redeemed, label = found.groups()
    return GroupPosition(seq=int(seq), total=int(total), redeemed=int(redeemed), label=bytes.fromhex(label))


def event_cursor(event: RedemptionEvent) -> str:
    text = f"{unix_ms(event.occurred_at)}.{event.seq}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def event_position(value: str) -> tuple[datetime, int]:
    """`(instant, seq)`: the feed goes on with events after it in `(occurred_at, seq)` order."""
    value = value.removesuffix("\n")
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    found = _EVENT_TEXT.fullmatch(text)
    if found is None or not _MIN_MS <= int(found.group(1)) <= _MAX_MS:
        raise InvalidRequest(Problem("invalid_events_cursor", "cursor"))
    ms, seq = found.groups()
    moment = from_unix_ms(int(ms))
    if seq is None:
        # A bare instant: after every event of that millisecond.
        return moment + timedelta(microseconds=999), _LAST_SEQ
    return moment, int(seq)


def unix_ms(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_unix_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)
