"""The one source of time: the domain asks a clock, never `datetime.now()`, so tests can move it."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

from codestand.core.errors import InvalidRequest, Problem

# The instants the clock may be set or advanced to. Python's datetimes end with year 9999:
# a year short of that leaves a running clock, and the lifetimes counted from it (an hour for a
# token), room to go on; a day after year 1 begins leaves room for offsets.
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)


class Clock:
    """Wall-clock time, shifted by an offset that tests may set or advance, or frozen.

    `set`, `freeze` and `advance` refuse (with `InvalidRequest`, naming the field `now` or
    `seconds` of the control plane's body) to leave the clock outside `EARLIEST`..`LATEST`, and
    then change nothing.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        frozen = self._frozen
        return frozen if frozen is not None else datetime.now(timezone.utc) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def set(self, moment: datetime) -> None:
        """From now on, time runs on from `moment`."""
        _check_range(moment, "now")
        with self._lock:
            self._frozen = None
            self._offset = moment - datetime.now(timezone.utc)

    def freeze(self, moment: datetime) -> None:
        """Time stands at `moment` until advanced, so tests can assert exact timestamps."""
        _check_range(moment, "now")
        with self._lock:
            self._frozen = moment

    def advance(self, by: timedelta) -> None:
        with self._lock:
            try:
                moment = self.now() + by
            except OverflowError:
                moment = None
            _check_range(moment, "seconds")
            if self._frozen is not None:
                self._frozen += by
            else:
                self._offset += by

    def reset(self) -> None:
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)


def _check_range(moment: datetime | None, field: str) -> None:
    try:
        within = moment is not None and EARLIEST <= moment <= LATEST
    except OverflowError:  # an offset that takes the instant out of the years a datetime holds
        within = False
    if not within:
        limits = {"earliest": iso_millis(EARLIEST), "latest": iso_millis(LATEST)}
        raise InvalidRequest(Problem("clock_range", field, limits))


def iso_millis(moment: datetime) -> str:
    """`2025-05-10T15:25:21.164Z`: how both vendors' JavaScript back ends print an instant."""
    utc = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    # Not strftime: glibc prints year 321 as `321`, not the `0321` ISO 8601 asks for.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond // 1000
    )  # fmt: skip


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date-time; a trailing `Z` is UTC, as JavaScript clients write it."""
    if value[-1:] in "zZ":
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def instant(value: str, field: str) -> datetime:
    """A UTC instant from an ISO 8601 date (its midnight UTC) or date-time (no offset: UTC).

    Raises `InvalidRequest` naming `field` for anything else, including the few instants at the
    edges of years 1 and 9999 whose offset takes them outside what a datetime can hold.
    """
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        moment = parse_datetime(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidRequest(Problem("format", field, {"format": "date|date-time"})) from None
