"""The one source of time: the domain asks a clock, never `datetime.now()`, so tests can move it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    """Wall-clock time plus an offset that tests may set or advance."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._offset = moment - datetime.now(timezone.utc)

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._offset += by

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)


def iso_millis(moment: datetime) -> str:
    """`2025-05-10T15:25:21.164Z`: how both vendors' JavaScript back ends print an instant."""
    utc = moment.astimezone(timezone.utc)
    # Not strftime("%Y"): glibc does not pad years before 1000 to four digits.
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date-time; a trailing `Z` is UTC, as JavaScript clients write it."""
    if value[-1:] in "zZ":
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)
