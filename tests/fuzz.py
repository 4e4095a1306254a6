"""`make fuzz`: the Schemathesis suites (tests/contract/) for a time budget, on both stores.

The suites run every check (`ignored_auth` and `object_level_authorization` included) and every
phase: examples, coverage, fuzzing, and the stateful scenarios that follow the contracts'
links. One round is one run of all three suites (Thought Industries, Moltin, control plane)
against fresh servers of one store, with a Hypothesis seed of its own; the rounds alternate
between the memory and the sqlite store with the same seed, and a new pair of rounds starts
while the budget lasts, so the run takes at least the budget. The end is a table of what was
sent: operations, cases and failures per store.

    CODESTAND_FUZZ_MINUTES   the budget (default 12)
    CODESTAND_FUZZ_EXAMPLES  examples an operation in each round (default 100)
    CODESTAND_FUZZ_SEED      the first round's seed (default: drawn); round n uses seed + n - 1

Run from the repository: `python -m tests.fuzz` (what `make fuzz` does). Exits 1 if any round
failed, and says how to run that round again.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORES = ("memory", "sqlite")


def run_round(store: str, seed: int, examples: int) -> tuple[dict, float, int]:
    """One run of tests/contract against `store`: its figures, minutes and pytest's exit status."""
    with tempfile.TemporaryDirectory() as folder:
        stats = Path(folder) / "figures.json"
        env = {
            **os.environ,
            "CODESTAND_CONTRACT_STORES": store,
            "CODESTAND_FUZZ_SEED": str(seed),
            "CODESTAND_FUZZ_EXAMPLES": str(examples),
            "CODESTAND_FUZZ_STATS": str(stats),
        }
        started = time.monotonic()
        command = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}"]
        status = subprocess.call(command, cwd=ROOT, env=env)
        minutes = (time.monotonic() - started) / 60
        figures = json.loads(stats.read_text()).get(store, {}) if stats.exists() else {}
    return figures, minutes, status


def contract_operations() -> int:
    sys.path.insert(0, str(ROOT))
    from codestand import spec

    methods = {"get", "put", "post", "delete", "patch"}
    return sum(1 for name in ("openapi.yaml", "control.yaml") for item in spec.load(name)["paths"].values() for m in item if m in methods)


def main() -> int:
    budget = float(os.environ.get("CODESTAND_FUZZ_MINUTES", "12"))
    examples = int(os.environ.get("CODESTAND_FUZZ_EXAMPLES", "100"))
    first_seed = int(os.environ.get("CODESTAND_FUZZ_SEED") or random.randrange(1, 1_000_000))
    totals = {store: {"rounds": 0, "operations": set(), "cases": 0, "failures": 0, "minutes": 0.0} for store in STORES}
    failed: list[str] = []
    started = time.monotonic()
    seed = first_seed
    while (time.monotonic() - started) / 60 < budget:
        for store in STORES:
            elapsed = (time.monotonic() - started) / 60
            print(f"\n=== round {seed - first_seed + 1} on {store}, seed {seed}, {elapsed:.1f} of {budget:g} minutes ===", flush=True)
            figures, minutes, status = run_round(store, seed, examples)
            total = totals[store]
            total["rounds"] += 1
            total["operations"].update(figures.get("operations", []))
            total["cases"] += figures.get("cases", 0)
            total["minutes"] += minutes
            # A run that failed without a check failing (a crash, an error in a fixture) counts too.
            failures = figures.get("failures", 0) or (1 if status != 0 else 0)
            total["failures"] += failures
            if failures:
                failed.append(
                    f"CODESTAND_CONTRACT_STORES={store} CODESTAND_FUZZ_SEED={seed} CODESTAND_FUZZ_EXAMPLES={examples} "
                    f".venv/bin/python -m pytest tests/contract --hypothesis-seed={seed}"
                )
        seed += 1

    minutes = (time.monotonic() - started) / 60
    print(f"\n=== make fuzz: {minutes:.1f} minutes, seeds {first_seed}..{seed - 1}, {examples} examples an operation a round ===")
    print(f"{'store':<8} {'rounds':>6} {'operations':>10} {'cases':>9} {'failures':>8} {'minutes':>7}")
    for store, total in totals.items():
        print(
            f"{store:<8} {total['rounds']:>6} {len(total['operations']):>10} {total['cases']:>9,} {total['failures']:>8} {total['minutes']:>7.1f}"
        )
    every = set().union(*(t["operations"] for t in totals.values()))
    print(
        f"{'total':<8} {sum(t['rounds'] for t in totals.values()):>6} {len(every):>10} "
        f"{sum(t['cases'] for t in totals.values()):>9,} {sum(t['failures'] for t in totals.values()):>8} {minutes:>7.1f}"
    )
    print(f"(operations: of the {contract_operations()} in openapi.yaml and control.yaml; cases: requests Schemathesis generated and sent)")
    for command in failed:
        print(f"failed; again with: {command}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
