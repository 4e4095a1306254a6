"""A rate-limit window any vendor can count requests in: fixed windows per key, by a clock.

Windows are aligned on multiples of their length since the Unix epoch (a one-minute window
resets on the minute, as Thought Industries' example `X-RateLimit-Reset: 1716505260` does), and
time is the stand-in's clock, so a test that advances the clock past a reset gets through.

`limit` is the quota a window reports; `burst` more requests are let through above it before
the window refuses ("Burst allowance permits short spikes above the base rate": Thought
Industries' rate-limits page). Whether a refusal is enforced is the caller's choice: a window
counts either way, so the headers a vendor sends are real counts.

`FixedWindow` counts in the process; `StoreWindow` counts in a store that several processes
share (PostgreSQL; SQLite with `--workers`), so that every worker and replica counts into one
window per key: a limit is the limit of the whole stand-in, not of each replica.
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


def _window(seconds: int, now: datetime) -> tuple[int, float]:
    """(the start of `now`'s window, in Unix seconds; `now` in Unix seconds)."""
    elapsed = (now - _EPOCH).total_seconds()
    return math.floor(elapsed / seconds) * seconds, elapsed


def _quota(allowed: bool, limit: int, used: int, start: int, elapsed: float, seconds: int) -> Quota:
    reset = start + seconds
    return Quota(allowed, limit, max(0, limit - used), reset, max(1, math.ceil(reset - elapsed)))


class FixedWindow:
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window start, requests counted)
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime, *, limit: int, burst: int = 0, enforce: bool) -> Quota:
        """Count a request of `key` at `now`, unless it is refused (`enforce` and over
        `limit + burst` already); refused requests are not counted."""
        start, elapsed = _window(self.seconds, now)
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
        return _quota(allowed, limit, used, start, elapsed, self.seconds)

    def _used(self, key: str, start: int) -> int:
        with self._lock:
            window, used = self._counts.get(key, (start, 0))
        return used if window == start else 0

    def allows(self, key: str, now: datetime, *, limit: int, burst: int = 0) -> bool:
        """Whether one more request of `key` fits (for a request counted in several windows,
        which must be refused by all or none)."""
        return self._used(key, _window(self.seconds, now)[0]) < limit + burst

    def peek(self, key: str, now: datetime, *, limit: int) -> Quota:
        """The key's standing without counting a request."""
        start, elapsed = _window(self.seconds, now)
        return _quota(True, limit, self._used(key, start), start, elapsed, self.seconds)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class StoreWindow(FixedWindow):
    """A fixed window counted in the store (`count_rate`, one statement a request), by every
    process on it. `name` keeps the buckets of two windows on one store apart."""

    def __init__(self, store, name: str, seconds: int) -> None:
        super().__init__(seconds)
        self.store = store
        self.name = name

    def hit(self, key: str, now: datetime, *, limit: int, burst: int = 0, enforce: bool) -> Quota:
        start, elapsed = _window(self.seconds, now)
        bucket = f"{self.name}:{key}"
        used = self.store.count_rate(bucket, start, limit + burst if enforce else None)
        if used is None:  # refused, and not counted
            return _quota(False, limit, self.store.rate_used(bucket, start), start, elapsed, self.seconds)
        return _quota(True, limit, used, start, elapsed, self.seconds)

    def _used(self, key: str, start: int) -> int:
        return self.store.rate_used(f"{self.name}:{key}", start)

    def clear(self) -> None:
        self.store.clear_rates(self.name)
