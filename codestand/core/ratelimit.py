"""A rate-limit window any vendor can count requests in: fixed windows per key, by a clock.

Windows are aligned on multiples of their length since the Unix epoch (a one-minute window
resets on the minute, as Thought Industries' example `X-RateLimit-Reset: 1716505260` does), and
time is the stand-in's clock, so a test that advances the clock past a reset gets through.

`limit` is the quota a window reports; `burst` more requests are let through above it before
the window refuses ("Burst allowance permits short spikes above the base rate": Thought
Industries' rate-limits page). Whether a refusal is enforced is the caller's choice: a window
counts either way, so the headers a vendor sends are real counts.

Counters live in the process (as the fault rules and the journal do): with several workers each
counts its own requests.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Counters of windows gone by are dropped once this many keys are counted.
_PRUNE_AT = 10_000


@dataclass(frozen=True, slots=True)
class Quota:
    """One request's standing in its window."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix seconds when the window resets
    retry_after: int  # whole seconds until then, at least 1


class FixedWindow:
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window start, requests counted)
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime, *, limit: int, burst: int = 0, enforce: bool) -> Quota:
        """Count a request of `key` at `now`, unless it is refused (`enforce` and over
        `limit + burst` already); refused requests are not counted."""
        elapsed = (now - _EPOCH).total_seconds()
        start = math.floor(elapsed / self.seconds) * self.seconds
        with self._lock:
            window, used = self._counts.get(key, (start, 0))
            if window != start:
                used = 0
            allowed = not enforce or used < limit + burst
            if allowed:
                used += 1
            if len(self._counts) >= _PRUNE_AT and key not in self._counts:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == start}
            self._counts[key] = (start, used)
        reset = start + self.seconds
        return Quota(allowed, limit, max(0, limit - used), reset, max(1, math.ceil(reset - elapsed)))

    def allows(self, key: str, now: datetime, *, limit: int, burst: int = 0) -> bool:
        """Whether one more request of `key` fits (for a request counted in several windows,
        which must be refused by all or none)."""
        start = math.floor((now - _EPOCH).total_seconds() / self.seconds) * self.seconds
        with self._lock:
            window, used = self._counts.get(key, (start, 0))
        return window != start or used < limit + burst

    def peek(self, key: str, now: datetime, *, limit: int) -> Quota:
        """The key's standing without counting a request."""
        elapsed = (now - _EPOCH).total_seconds()
        start = math.floor(elapsed / self.seconds) * self.seconds
        with self._lock:
            window, used = self._counts.get(key, (start, 0))
        used = used if window == start else 0
        reset = start + self.seconds
        return Quota(True, limit, max(0, limit - used), reset, max(1, math.ceil(reset - elapsed)))

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
