"""CPU time a request costs inside the app, without a server, a socket or wrk.

    python benchmarks/inprocess.py [--requests 20000] [--rounds 3] [--pass-through journal,cors]

Calls the ASGI app directly with the messages uvicorn would send, the way `make bench` sends
them (the same bodies and headers), and prints the median over rounds of CPU microseconds a
request. Steadier than wrk on a shared machine, so it is what a small change is judged by; the
wrk figures in BENCHMARKS.md remain what the aims are judged on.

`--pass-through` replaces the named middlewares with a plain hop, to measure what each costs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import statistics
import time

from codestand.app import create_app
from codestand.control import faults, journal
from codestand.http import cors, landing, middleware
from codestand.settings import Settings

MIDDLEWARES = {
    "journal": journal.JournalRecorder,
    "cors": cors.VendorCORS,
    "landing": landing.LandingPage,
    "faults": faults.FaultInjector,
    "slashes": middleware.EncodedSlashes,
    "limit": middleware.BodyLimit,
}
GROUP = {"label": "Benchmark group", "codeLength": 12, "totalCodesCount": 1, "courses": ["8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"]}
PER_PROMOTION = 900
PROMOTION = {
    "data": {
        "type": "promotion", "name": "Benchmark", "description": "d", "enabled": True,
        "promotion_type": "fixed_discount", "schema": {"currencies": [{"currency": "USD", "amount": 900}]},
        "start": "2017-11-13", "end": "2030-11-13",
    }
}  # fmt: skip


class Caller:
    """One app, called as uvicorn would call it."""

    def __init__(self) -> None:
        self.app = create_app(Settings(access_log=False))
        self.sent: list[dict] = []

    async def call(self, method: str, path: str, auth: str, body: bytes = b"", content_type: bytes | None = None) -> tuple[int, bytes]:
        headers = [(b"host", b"127.0.0.1"), (b"authorization", auth.encode())]
        if content_type:
            headers += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "root_path": "", "path": path,
            "raw_path": path.encode(), "query_string": b"", "headers": headers,
        }  # fmt: skip

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            self.sent.append(message)

        self.sent = []
        await self.app(scope, receive, send)
        return self.sent[0]["status"], b"".join(m.get("body", b"") for m in self.sent[1:])


async def operations(caller: Caller, total: int) -> dict[str, object]:
    """Each operation as a function of the request's number (of `total`), after its set-up."""
    ti = "Bearer bench-key"
    ti_list = "Bearer bench-list-key"  # a tenant of its own with 20 groups, as `make bench` lists
    for _ in range(20):
        status, _ = await caller.call("POST", "/incoming/v2/redemptionCodes", ti_list, json.dumps(GROUP).encode(), b"application/json")
        assert status == 201
    form = b"grant_type=client_credentials&client_id=bench-store&client_secret=s"
    _, token = await caller.call("POST", "/oauth/access_token", "", form, b"application/x-www-form-urlencoded")
    moltin = f"Bearer {json.loads(token)['access_token']}"
    promotions = []
    for _ in range(total // PER_PROMOTION + 2):
        _, created = await caller.call("POST", "/v2/promotions", moltin, json.dumps(PROMOTION).encode(), b"application/json")
        promotions.append(json.loads(created)["data"]["id"])
    listed = promotions.pop()
    twenty = {"data": {"type": "promotion_codes", "codes": [{"code": f"listed-{n}"} for n in range(20)]}}
    status, _ = await caller.call("POST", f"/v2/promotions/{listed}/codes", moltin, json.dumps(twenty).encode(), b"application/json")
    assert status == 201
    group = json.dumps(GROUP).encode()

    def add_code(n: int):
        body = json.dumps({"data": {"type": "promotion_codes", "codes": [{"code": f"c{n}"}]}}).encode()
        # A promotion holds at most 1000 codes.
        return caller.call("POST", f"/v2/promotions/{promotions[n // PER_PROMOTION]}/codes", moltin, body, b"application/json")

    return {
        "create group": lambda n: caller.call("POST", "/incoming/v2/redemptionCodes", ti, group, b"application/json"),
        "list groups": lambda n: caller.call("GET", "/incoming/v2/redemptionCodes", ti_list),
        "add one code": add_code,
        "list codes": lambda n: caller.call("GET", f"/v2/promotions/{listed}/codes", moltin),
    }


async def measure(requests: int, rounds: int) -> dict[str, float]:
    caller = Caller()
    ops = await operations(caller, requests * rounds)
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)  # as `codestand serve` sets it
    numbers = {name: itertools.count() for name in ops}
    results: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            started = time.process_time()
            for _ in range(requests):
                status, _ = await op(next(numbers[name]))
            results[name].append((time.process_time() - started) / requests * 1e6)
            assert status in (200, 201), (name, status, _)
    return {name: statistics.median(times) for name, times in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="requests an operation a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pass-through", default="", help=f"comma-separated, of: {', '.join(MIDDLEWARES)}")
    args = parser.parse_args()
    for name in filter(None, args.pass_through.split(",")):

        async def hop(self, scope, receive, send):
            await self.app(scope, receive, send)

        MIDDLEWARES[name].__call__ = hop
    for name, micros in asyncio.run(measure(args.requests, args.rounds)).items():
        print(f"{name:<14} {micros:6.1f} us/request")


if __name__ == "__main__":
    main()
