"""The clock, the fault rules and the journal kept in the store, for a store that several
processes share (PostgreSQL; SQLite with `--workers`): every worker and replica then has one
clock, one set of rules (a rule with a count fires that many times in all) and one journal.

Each request reads the clock and the live rules once, in one call of the store, off the event
loop (`SharedState`); what it then asks of the clock or the rules is answered from that
snapshot. Writes (setting the clock, adding a rule, counting a rule's use, recording a request)
go to the store at once, so the next request anywhere sees them.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.control.faults import MAX_RULES, Fault, FaultRule, Faults
from codestand.control.journal import Journal, Recorded
from codestand.core.clock import Clock, _check_range
from codestand.core.errors import Problem, RuleViolation
from codestand.http import offload
from codestand.storage.base import StorageUnavailable

_log = logging.getLogger("codestand.errors")

ClockState = tuple[int, datetime | None]  # offset in microseconds, frozen instant
RuleRow = tuple[int, dict[str, Any], int | None, int]  # number, rule, count, applied

_CLOCK: ContextVar[ClockState | None] = ContextVar("codestand.shared_clock", default=None)
_RULES: ContextVar[list[RuleRow] | None] = ContextVar("codestand.shared_rules", default=None)


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class SharedClock(Clock):
    """The clock, with its offset or frozen instant in the store."""

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store

    def _state(self) -> ClockState:
        state = _CLOCK.get()
        return state if state is not None else self.store.clock_state()

    def _write(self, offset_us: int, frozen: datetime | None) -> None:
        self.store.set_clock_state(offset_us, frozen)
        _CLOCK.set((offset_us, frozen))

    def now(self) -> datetime:
        offset_us, frozen = self._state()
        return frozen if frozen is not None else datetime.now(timezone.utc) + timedelta(microseconds=offset_us)

    @property
    def frozen(self) -> bool:
        return self._state()[1] is not None

    def set(self, moment: datetime) -> None:
        _check_range(moment, "now")
        self._write(_micros(moment - datetime.now(timezone.utc)), None)

    def freeze(self, moment: datetime) -> None:
        _check_range(moment, "now")
        self._write(self._state()[0], moment)

    def advance(self, by: timedelta) -> None:
        def moved(offset_us: int, frozen: datetime | None, by_us: int) -> ClockState:
            try:
                base = frozen if frozen is not None else datetime.now(timezone.utc) + timedelta(microseconds=offset_us)
                moment = base + by
            except OverflowError:
                moment = None
            _check_range(moment, "seconds")
            return (offset_us, moment) if frozen is not None else (offset_us + by_us, None)

        _CLOCK.set(self.store.advance_clock_state(_micros(by), moved))

    def reset(self) -> None:
        self._write(0, None)


class SharedFaults(Faults):
    """The fault rules in the store; the draws (probability, latency) stay each process's own."""

    def __init__(self, store, seed: int | None = None) -> None:
        super().__init__(seed)
        self.store = store

    def _rows(self) -> list[RuleRow]:
        rows = _RULES.get()
        return rows if rows is not None else self.store.fault_rules()

    def rules(self) -> list[FaultRule]:
        return [_rule(row) for row in self.store.fault_rules()]

    def add(self, body: dict[str, Any]) -> FaultRule:
        if len(self.store.fault_rules()) >= MAX_RULES:
            raise RuleViolation(Problem("too_many_faults", params={"limit": MAX_RULES}))
        rule = self.rule_from(body, rule_id="0")
        number = self.store.add_fault_rule(rule.to_json(), rule.count)
        rule.id = str(number)
        return rule

    def remove(self, rule_id: str) -> bool:
        # Rule ids are the store's numbers: anything else (or beyond a BIGINT) names no rule.
        return rule_id.isascii() and rule_id.isdigit() and len(rule_id) <= 18 and self.store.remove_fault_rule(int(rule_id))

    def clear(self) -> None:
        self.store.clear_fault_rules()

    def pick(self, method: str, path: str) -> Fault | None:
        for rule in map(_rule, self._rows()):
            if rule.matches(method, path) and self.random.random() < rule.probability:
                # Counted in one statement that refuses once the count is reached, so a rule
                # fires exactly its count in all, whichever processes the requests reach.
                if self.store.count_fault_rule(int(rule.id)) is None:
                    continue  # another process used its last one
                return Fault(self._delay(rule.latency_ms), rule.status, rule.drop)
        return None

    async def pick_async(self, method: str, path: str) -> Fault | None:
        rows = self._rows() if _RULES.get() is not None else None
        if rows is not None and not any(_rule(row).matches(method, path) for row in rows):
            return None  # the common case: no rule, and no thread needed
        return await offload.run(self.pick, method, path)


class SharedJournal(Journal):
    """The journal in the store: entries are redacted when recorded, and kept as JSON."""

    record_before_answer = True

    def __init__(self, store, size: int, secrets=()) -> None:
        super().__init__(size, secrets)
        self.store = store

    def record(self, recorded: Recorded) -> None:
        if self.size:
            entry = self._entry(recorded)
            del entry["id"]
            self.store.record_journal(entry, self.size)

    async def record_async(self, recorded: Recorded) -> None:
        if self.size:
            try:
                await offload.run(self.record, recorded)
            except StorageUnavailable as exc:
                _log.warning("journal not recorded: storage unavailable: %s", exc.reason)

    def clear(self) -> None:
        self.store.clear_journal()

    def span(self) -> tuple[int, int | None]:
        return self.store.journal_span(self.size) if self.size else (0, None)

    def _newest_first(self):
        return iter(self.store.journal_entries(self.size)) if self.size else iter(())


def _rule(row: RuleRow) -> FaultRule:
    number, body, count, applied = row
    latency = body.get("latency_ms")
    return FaultRule(
        id=str(number),
        path=body["path"],
        method=body.get("method"),
        status=body.get("status"),
        latency_ms=(latency["min"], latency["max"]) if isinstance(latency, dict) else latency,
        drop=body.get("drop", False),
        probability=body.get("probability", 1.0),
        count=count,
        applied=applied,
    )


class SharedState:
    """Reads the clock and the fault rules once a request, off the event loop, for the request
    to use (see the module's description). If the store cannot be read, the request goes on
    with the wall clock and no rules: what it asks of the store then answers 503 by itself."""

    def __init__(self, app: ASGIApp, store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                clock, rules = await offload.run(self.store.control_state)
            except StorageUnavailable:
                clock, rules = (0, None), []
            _CLOCK.set(clock)
            _RULES.set(rules)
        await self.app(scope, receive, send)
