"""Where a request's time goes: codestand under py-spy while wrk drives one operation.

    python benchmarks/profile.py [--op ti_create] [--duration 8] [--connections 8] [--top 30] [-- SERVE ARGS]

Needs `py-spy` in the environment (`pip install py-spy`) and `wrk`. Prints, per operation, the
functions with the largest share of samples, inclusive (the function and what it calls) and
self (the function's own code), and keeps the raw stacks (`benchmarks/profiles/OP.txt`, git-ignored)
for a flame graph.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the benchmark harness: servers, set-up, wrk)

OUT = run.BENCH / "profiles"


def summarize(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split("/")[-1] if " (" in f else f for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def profile(op: str, args: argparse.Namespace, serve_args: list[str]) -> str:
    OUT.mkdir(exist_ok=True)
    raw = OUT / f"{op}.txt"
    port = run.free_port()
    command = [
        shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "-r", "250", "-f", "raw",
        "-o", str(raw), "--", sys.executable, "-m", "codestand", "serve", "--port", str(port), *serve_args,
    ]  # fmt: skip
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not run.answered(port):
            if time.monotonic() > deadline or spy.poll() is not None:
                raise RuntimeError("codestand did not start under py-spy")
            time.sleep(0.05)
        server = run.Server(op, "codestand", [], port, Path(os.devnull))
        with tempfile.TemporaryDirectory() as tmp:
            wrk_args = run.setup_operation(server, op, args.duration, Path(tmp))
            result = run.wrk(port, f"{op}.lua", wrk_args, args.connections, args.duration)
        # Stopping codestand makes py-spy write what it sampled.
        for pid in run.process_tree(spy.pid)[1:]:
            os.kill(pid, signal.SIGTERM)
        spy.wait(timeout=60)
    finally:
        if spy.poll() is None:
            os.killpg(spy.pid, signal.SIGKILL)
    head = f"== {op}: {result.rps:,.0f} req/s under the profiler, {result.errors} errors"
    return head + "\n" + summarize(raw, args.top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--op", action="append", choices=list(run.OPERATIONS))
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("serve", nargs="*", default=["--quiet"], help="codestand serve arguments (after --)")
    args = parser.parse_args()
    for op in args.op or list(run.OPERATIONS):
        print(profile(op, args, args.serve), flush=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
