"""Which tenants the stand-in has seen lately, so that a long-lived shared instance forgets the
ones no one uses and holds at most so many.

A stand-in that serves thousands of CI jobs, each with a key of its own, would otherwise keep
every tenant it ever saw. Each use of a tenant (a vendor request it authenticated as, a token
issued to it, a control route writing to it) is noted with the stand-in's clock; with a TTL,
tenants not used for that long are forgotten (their state reset, as `POST .../reset` does),
looked for at most once every `SWEEP_EVERY` of use. With a maximum, a tenant beyond it is
refused until one is forgotten.

`Tenants` keeps the notes in the process (the memory store, one process). On a store several
processes share (PostgreSQL; SQLite with `--workers`) `SharedTenants` keeps them in the store,
so a replica forgets a tenant only when no replica has used it for the TTL, and the maximum
counts the tenants of all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from codestand.core.errors import Problem, Unavailable

if TYPE_CHECKING:
    from codestand.core.clock import Clock
    from codestand.storage.base import Storage

SWEEP_EVERY = timedelta(seconds=10)


class TenantLimit(Unavailable):
    """A new tenant while the stand-in holds `--max-tenants` already (503: retry later, or
    reset tenants)."""


class Tenants:
    def __init__(self, store: Storage, clock: Clock, *, ttl: timedelta | None, limit: int | None) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.limit = limit
        self._last_use: dict[str, datetime] = {}
        self._swept: datetime | None = None

    @property
    def active(self) -> bool:
        return self.ttl is not None or self.limit is not None

    def use(self, key: str) -> None:
        """Note a use of tenant `key` (a store key, see `core.tenants`), or refuse a new one."""
        if not self.active:
            return
        now = self.clock.now()
        if self.ttl is not None and (self._swept is None or now - self._swept >= min(SWEEP_EVERY, self.ttl) or now < self._swept):
            self.sweep(now)
        self._note(key, now)

    def _note(self, key: str, now: datetime) -> None:
        if self.limit is not None and key not in self._last_use and len(self._last_use) >= self.limit:
            raise TenantLimit(Problem("too_many_tenants", params={"limit": self.limit}))
        # Re-inserted: the dict stays in order of last use, oldest first.
        self._last_use.pop(key, None)
        self._last_use[key] = now

    def forget(self, key: str | None = None) -> None:
        """The tenant was reset (or all of them): it no longer counts."""
        if key is None:
            self._last_use.clear()
        else:
            self._last_use.pop(key, None)

    def sweep(self, now: datetime) -> int:
        """Forget tenants unused for the TTL; how many."""
        self._swept = now
        if self.ttl is None:
            return 0
        deadline = now - self.ttl
        idle = []
        for key, at in self._last_use.items():
            if at > deadline:
                break  # in order of last use: the rest are newer
            idle.append(key)
        for key in idle:
            self.store.reset(key)
            del self._last_use[key]
        return len(idle)

    def __len__(self) -> int:
        return len(self._last_use)


# A process notes a tenant's use in the store at most this often (the TTL is minutes or more).
NOTE_EVERY = timedelta(seconds=1)


class SharedTenants(Tenants):
    """The notes in the store (`note_tenant_use`, `idle_tenants`, ...), for every process on it."""

    def __init__(self, store: Storage, clock: Clock, *, ttl: timedelta | None, limit: int | None) -> None:
        super().__init__(store, clock, ttl=ttl, limit=limit)
        self._noted: dict[str, datetime] = {}  # what this process last wrote, to write less

    def _note(self, key: str, now: datetime) -> None:
        noted = self._noted.get(key)
        if noted is not None and noted <= now < noted + NOTE_EVERY:
            return
        if self.limit is not None and self.store.tenant_used(key) is None and self.store.tenant_use_count() >= self.limit:
            raise TenantLimit(Problem("too_many_tenants", params={"limit": self.limit}))
        self.store.note_tenant_use(key, now)
        if len(self._noted) >= 10_000:
            self._noted.clear()
        self._noted[key] = now

    def forget(self, key: str | None = None) -> None:
        self.store.forget_tenant_use(key)
        if key is None:
            self._noted.clear()
        else:
            self._noted.pop(key, None)

    def sweep(self, now: datetime) -> int:
        self._swept = now
        if self.ttl is None:
            return 0
        deadline = now - self.ttl
        forgotten = 0
        for key in self.store.idle_tenants(deadline):
            # Only if still idle: another replica may have used it since the list was read.
            if self.store.forget_tenant_use(key, unless_since=deadline):
                self.store.reset(key)
                self._noted.pop(key, None)
                forgotten += 1
        return forgotten

    def __len__(self) -> int:
        return self.store.tenant_use_count()
