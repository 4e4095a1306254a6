"""How much a file or a database costs: the two largest writes, through the domain, on every backend.

    .venv/bin/python benchmarks/storage_bench.py [--repeat 9] [--dir DIR] [--synchronous NORMAL] [--no-postgresql]

Times creating a 10,000-code redemption group and adding 1000 codes to a promotion, on the
memory backend, on SQLite (a fresh file under DIR, default a temporary directory) and on
PostgreSQL (a throwaway cluster of Debian's server, tests/pg.py, fsync on, over TCP on
127.0.0.1), and prints the median of each and its ratio to memory. The aim is within 3x of
memory.

Both backends are measured in turns, one repetition each, so that other load on the machine
falls on both alike. All repetitions write to one tenant, which keeps its earlier codes, as a
shared stand-in does: the code tables grow to about 100,000 codes. SQLite timings include the
commit and so the sync to disk; `--synchronous NORMAL` shows what that sync costs (codestand
itself always uses FULL, see docs/STORAGE.md).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from codestand.core.clock import Clock
from codestand.moltin import promotion_codes, promotions
from codestand.storage import sqlite_file
from codestand.storage.base import Storage
from codestand.storage.memory import MemoryStorage
from codestand.storage.sqlite import SqliteStorage
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.pg

from codestand.thoughtindustries import groups as redemption_groups
from codestand.thoughtindustries.catalog import Seed, load_seed

TENANT = "benchmark-tenant-0123456789abcdef"  # as long as a typical API key
GROUP = {"label": "Bench", "codeLength": 8, "totalCodesCount": 10_000, "courses": ["bench-course"]}
PROMOTION = {
    "name": "Bench",
    "description": "bench",
    "enabled": True,
    "promotion_type": "fixed_discount",
    "schema": {"currencies": [{"currency": "USD", "amount": 100}]},
    "start": "2020-01-01",
    "end": "2099-01-01",
}
CASES = ("10,000-code group", "1000 promotion codes")


def create_group(store: Storage, clock: Clock, seed: Seed, run: int) -> float:
    started = time.perf_counter()
    redemption_groups.create(store, clock, seed, TENANT, GROUP, strict_catalog=False)
    return time.perf_counter() - started


def add_codes(store: Storage, clock: Clock, seed: Seed, run: int) -> float:
    promotion = promotions.create(store, clock, TENANT, PROMOTION)
    entries = [{"code": f"BENCH-{run}-{n:04d}"} for n in range(1000)]
    started = time.perf_counter()
    promotion_codes.add(store, clock, TENANT, promotion.id, entries)
    return time.perf_counter() - started


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeat", type=int, default=9, help="repetitions per measurement (the median is shown)")
    options.add_argument("--dir", type=Path, default=None, help="directory for the SQLite file (default: a temporary one)")
    options.add_argument("--synchronous", choices=("FULL", "NORMAL"), default=sqlite_file.SYNCHRONOUS, help="SQLite's sync setting")
    options.add_argument("--no-postgresql", action="store_true", help="leave PostgreSQL out")
    args = options.parse_args()
    sqlite_file.SYNCHRONOUS = args.synchronous

    clock, seed = Clock(), load_seed()
    timings: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as directory, contextlib.ExitStack() as stack:
        stores: dict[str, Storage] = {"memory": MemoryStorage(), "sqlite": SqliteStorage(Path(directory) / "bench.sqlite")}
        if not args.no_postgresql:
            from codestand.storage.postgresql import PostgresStorage
            from tests import pg

            cluster = pg.Cluster(fsync=True).start()
            stack.callback(cluster.close)
            stores["postgresql"] = PostgresStorage(cluster.create_database("bench"), pool_size=2)
        for case, measure in zip(CASES, (create_group, add_codes)):
            for run in range(args.repeat + 1):  # the first is a warm-up and not counted
                for backend, store in stores.items():
                    seconds = measure(store, clock, seed, run)
                    if run:
                        timings.setdefault((case, backend), []).append(seconds)
        for store in stores.values():
            store.close()

    backends = [b for b in ("memory", "sqlite", "postgresql") if (CASES[0], b) in timings]
    print(f"{'write':<22}" + "".join(f"{b:>12}" for b in backends) + "".join(f"{b + '/memory':>20}" for b in backends[1:]))
    for case in CASES:
        medians = [statistics.median(timings[(case, b)]) for b in backends]
        row = "".join(f"{m * 1000:>10.1f}ms" for m in medians) + "".join(f"{m / medians[0]:>19.2f}x" for m in medians[1:])
        print(f"{case:<22}{row}")
    print(f"median of {args.repeat} runs each; SQLite synchronous={args.synchronous}")


if __name__ == "__main__":
    main()
