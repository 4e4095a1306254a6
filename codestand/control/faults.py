"""Faults: make vendor routes slow, fail or hang up, so a client's error handling can be tested.

A rule names a method and a path glob (`/v2/promotions/*/codes`, see `globs`) and what to do to
a request it matches: wait `latency_ms` (fixed, or drawn from `{min, max}`), answer `status` in
that vendor's error shape, or `drop` the connection without an answer. A rule applies with its
`probability` and, with a `count`, that many times before it expires. The first rule (in the
order they were added) that matches and whose draw succeeds applies; the others are not
counted.

A fault acts before the request is authenticated or handled: a faulted request changes no
state, as if it never reached the vendor. Only vendor paths are faulted, never the control plane.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from codestand.core import globs
from codestand.core.errors import InvalidRequest, Problem, RuleViolation, error_for_status
from codestand.http.connections import ConnectionDropped
from codestand.http.vendors import is_vendor_path


# Every vendor request is matched against every rule (each at most `globs.MAX_PATTERN`
# characters): the cap keeps that a few milliseconds even for a path of `MAX_PATH` characters.
MAX_RULES = 100


@dataclass
class FaultRule:
    id: str
    path: str
    method: str | None = None
    status: int | None = None
    # Milliseconds: a fixed delay, or (min, max) to draw from.
    latency_ms: int | tuple[int, int] | None = None
    drop: bool = False
    probability: float = 1.0
    count: int | None = None
    applied: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and globs.matches(self.path, path)

    @property
    def expired(self) -> bool:
        return self.count is not None and self.applied >= self.count

    def to_json(self) -> dict[str, Any]:
        latency = self.latency_ms
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latency_ms": {"min": latency[0], "max": latency[1]} if isinstance(latency, tuple) else latency,
            "drop": self.drop,
            "probability": self.probability,
            "count": self.count,
            "applied": self.applied,
        }


@dataclass(frozen=True)
class Fault:
    """What one request gets: a delay, then an error status, a dropped connection or neither."""

    delay_seconds: float
    status: int | None
    drop: bool


class Faults:
    """The app's fault rules, and the one `random.Random` their draws come from (seed it for
    repeatable runs)."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def seed(self, seed: int | None) -> None:
        self.random.seed(seed)

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def add(self, body: dict[str, Any]) -> FaultRule:
        """A rule from a `POST /__codestand/faults` body (already checked against `control.yaml`)."""
        if len(self._rules) >= MAX_RULES:
            raise RuleViolation(Problem("too_many_faults", params={"limit": MAX_RULES}))
        rule = self.rule_from(body, str(next(self._ids)))
        self._rules.append(rule)
        return rule

    @staticmethod
    def rule_from(body: dict[str, Any], rule_id: str) -> FaultRule:
        latency = body.get("latency_ms")
        if isinstance(latency, dict):
            if latency["min"] > latency["max"]:
                raise InvalidRequest(Problem("latency_range", "latency_ms"))
            latency = (latency["min"], latency["max"])
        return FaultRule(
            id=rule_id,
            path=body["path"],
            method=body["method"].upper() if body.get("method") else None,
            status=body.get("status"),
            latency_ms=latency,
            drop=body.get("drop", False),
            probability=body.get("probability", 1.0),
            count=body.get("count"),
        )

    def remove(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) < before

    def clear(self) -> None:
        self._rules.clear()

    async def pick_async(self, method: str, path: str) -> Fault | None:
        """`pick`, for the event loop: rules kept in a shared store are counted off the loop."""
        return self.pick(method, path)

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if a rule applies; counts it and retires expired rules."""
        for rule in self._rules:
            # random() is below 1 always and below 0 never: probability 1 and 0 are exact.
            if rule.matches(method, path) and self.random.random() < rule.probability:
                rule.applied += 1
                if rule.expired:
                    self._rules.remove(rule)
                return Fault(self._delay(rule.latency_ms), rule.status, rule.drop)
        return None

    def _delay(self, latency: int | tuple[int, int] | None) -> float:
        if isinstance(latency, tuple):
            return self.random.randint(*latency) / 1000
        return (latency or 0) / 1000


class FaultInjector:
    """Applies the fault rules to vendor requests.

    Sits inside Connexion's exception middleware and before routing and security: a forced
    status is raised as the generic error of that status and rendered by the one error path in
    the vendor's shape; the body is read first, as a server reads a request before it answers.
    The delay is `asyncio.sleep`, so a slow request never holds up the others.
    """

    def __init__(self, app: ASGIApp, faults: Faults, body_limit: int) -> None:
        self.app = app
        self.faults = faults
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = None
        if scope["type"] == "http" and is_vendor_path(scope["path"]):
            fault = await self.faults.pick_async(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_seconds:
            await asyncio.sleep(fault.delay_seconds)
        if fault.status is None and not fault.drop:
            await self.app(scope, receive, send)
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False) and message["type"] == "http.request"
        if fault.drop:
            raise ConnectionDropped()
        raise error_for_status(fault.status, limit=self.body_limit)
