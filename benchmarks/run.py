"""`make bench`: codestand against Stoplight Prism and a bare Starlette ceiling, side by side.

Everything is measured in one run, servers interleaved, and reported as ratios as well as
absolute figures, because the machines this runs on are shared and noisy. Writes BENCHMARKS.md
(machine, versions, the exact command, tables, which aims are met); the hand-written part at its
end, below the marker line, is kept as it is.

What it needs it installs or names: Prism comes from `benchmarks/package-lock.json` into the
git-ignored `benchmarks/node_modules` (Node.js and npm required); `wrk` comes from the system
(`apt-get install wrk`, tried when running as root), and without it the wrk-driven parts are
skipped with a message saying so.

    python benchmarks/run.py [--duration 5] [--concurrency 1,8,64] [--only throughput,startup,bulk,growth]
                             [--config 'LABEL=["--storage", "memory"]'] [--output BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
LUA = BENCH / "lua"
SPEC = ROOT / "codestand" / "openapi.yaml"
PRISM_BIN = BENCH / "node_modules" / ".bin" / "prism"
MARKER = "<!-- Everything below this line is written by hand; benchmarks/run.py keeps it. -->"

# codestand configurations, as `codestand serve` arguments; `{tmp}` is a scratch folder, `{pg}` a
# fresh database of a throwaway PostgreSQL cluster (tests/pg.py; fsync on) started for the run.
# One whose flags `codestand serve --help` does not offer is skipped and reported as such.
CONFIGS: dict[str, list[str]] = {
    "memory": ["--storage", "memory", "--quiet"],
    "memory, access log": ["--storage", "memory"],
    "sqlite, 2 workers": ["--storage", "sqlite:{tmp}/bench.sqlite", "--workers", "2", "--quiet"],
    "postgresql": ["--storage", "{pg}", "--quiet"],
    # Two processes on one database, each with its own pool: what two replicas are to PostgreSQL,
    # with the kernel spreading connections over them as a load balancer would.
    "postgresql, 2 workers": ["--storage", "{pg}", "--workers", "2", "--quiet"],
}
RECOMMENDED = "memory"  # the configuration the README recommends; the aims are judged on it
BACKENDS = ("memory", "sqlite, 2 workers", "postgresql")  # measured for bulk work and growth

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
LIST_SIZE = 20  # groups in the listed tenant, codes in the listed promotion
PROMOTION = {
    "data": {
        "type": "promotion",
        "name": "Benchmark promotion",
        "description": "Benchmark",
        "enabled": True,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 900}]},
        "start": "2017-11-13",
        "end": "2099-11-13",
    }
}

OPERATIONS = {
    "ti_create": "Thought Industries: create group with one code",
    "ti_get": "Thought Industries: get group",
    "ti_list": f"Thought Industries: list groups ({LIST_SIZE} in the tenant)",
    "moltin_add_code": "Moltin: add one code",
    "moltin_list_codes": f"Moltin: list codes ({LIST_SIZE} on the promotion)",
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answered(port: int) -> bool:
    """True once the server answers an HTTP request (any status)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /incoming/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer probe\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (worker processes count towards memory)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def rss_bytes(pid: int) -> int:
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class Server:
    label: str
    kind: str  # codestand, prism, starlette
    command: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = None
    startup_s: float = 0.0

    def start(self, timeout: float = 90) -> float:
        """Start and wait for the first answered request; returns the seconds that took."""
        out = self.log_path.open("ab")
        began = time.perf_counter()
        self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT, cwd=BENCH, start_new_session=True)
        out.close()
        while time.perf_counter() - began < timeout:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"{self.label} exited with {self.process.returncode}: {' / '.join(tail)}")
            if answered(self.port):
                self.startup_s = time.perf_counter() - began
                return self.startup_s
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.label} did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def rss(self) -> int:
        return rss_bytes(self.process.pid) if self.process else 0


def codestand_server(label: str, args: list[str], tmp: Path) -> Server:
    port = free_port()
    args = [a.replace("{tmp}", str(tmp)) for a in args]
    args = [pg_database() if a == "{pg}" else a for a in args]
    command = [sys.executable, "-m", "codestand", "serve", "--port", str(port), *args]
    return Server(f"codestand ({label})", "codestand", command, port, tmp / f"codestand-{port}.log")


_CLUSTER: list = []


def pg_database() -> str:
    """A new database of the run's PostgreSQL cluster, started on first use and stopped at exit."""
    if not _CLUSTER:
        import atexit

        sys.path.insert(0, str(ROOT))
        from tests import pg

        cluster = pg.Cluster(fsync=True).start()
        atexit.register(cluster.close)
        _CLUSTER.append(cluster)
    return _CLUSTER[0].create_database(f"bench_{uuid.uuid4().hex[:12]}")


def prism_server(spec: Path, tmp: Path) -> Server:
    port = free_port()
    # Prism's own defaults, except that it logs nothing: its per-request log lines would cost it.
    command = [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "silent", str(spec)]
    return Server("Prism", "prism", command, port, tmp / "prism.log")


def starlette_server(tmp: Path) -> Server:
    port = free_port()
    command = [sys.executable, str(BENCH / "bare_starlette.py"), str(port), str(LIST_SIZE)]
    return Server("bare Starlette", "starlette", command, port, tmp / "starlette.log")


def offered_flags() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "codestand", "serve", "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return set(re.findall(r"--[a-z][a-z0-9-]*", done.stdout))


def missing_flags(args: list[str], offered: set[str]) -> list[str]:
    return [a for a in args if a.startswith("--") and a.split("=")[0] not in offered]


# --- Prism and wrk ----------------------------------------------------------------------


def ensure_prism() -> str | None:
    """Install Prism from the lock file if needed; None when ready, else why not."""
    if PRISM_BIN.exists():
        return None
    if not shutil.which("npm"):
        return "npm is not installed (Node.js 18 or later with npm is needed for Prism)"
    log("installing Prism into benchmarks/node_modules (npm ci)")
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=BENCH, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not PRISM_BIN.exists():
        return f"npm ci failed ({done.returncode}): {done.stderr.strip()[-300:]}"
    return None


def prism_spec(tmp: Path) -> Path:
    """`openapi.yaml` with its local `$ref`s written out in place.

    Prism 5.9 answers 500 (`Invalid reference token: __bundled__`) to operations whose
    response schema reaches one component through several references (add codes, get
    promotion); the same contract without references it serves. Same paths, schemas and examples.
    """
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                target = spec
                for part in ref[2:].split("/"):
                    target = target[part]
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**inline(target), **inline(rest)}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    path = tmp / "openapi.prism.json"
    path.write_text(json.dumps(inline(spec)), encoding="utf-8")
    return path


def ensure_wrk() -> bool:
    """wrk from the system: installed with apt-get where that works (root on Debian/Ubuntu)."""
    if shutil.which("wrk"):
        return True
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        log("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk") is not None


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    @property
    def ok(self) -> bool:
        return self.errors == 0


def wrk(port: int, script: str, args: list[str], connections: int, duration: float) -> WrkResult:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
        "-s", script, f"http://127.0.0.1:{port}", "--", *args,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=LUA, capture_output=True, text=True, timeout=duration + 120, check=False)
    line = next((l for l in done.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout[-500:]} {done.stderr[-500:]}")
    r = json.loads(line[len("WRKJSON ") :])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return WrkResult(r["requests"] / (r["duration_us"] / 1e6), r["p50_us"] / 1000, r["p99_us"] / 1000, r["requests"], errors)


# --- a small HTTP client for set-up and bulk requests --------------------------------------


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(self, method: str, path: str, body=None, headers: dict | None = None, form: bool = False) -> tuple[int, dict]:
        headers = dict(headers or {})
        data = None
        if body is not None:
            if form:
                data = body.encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # The server closes a connection left idle past its keep-alive: open another.
            self.conn.close()
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw.strip() else {})

    def expect(self, status: int, *args, **kwargs) -> dict:
        got, body = self.call(*args, **kwargs)
        if got != status:
            raise RuntimeError(f"{args[0]} {args[1]}: expected {status}, got {got}: {str(body)[:300]}")
        return body

    def token(self, client_id: str) -> str:
        body = self.expect(
            200, "POST", "/oauth/access_token", f"grant_type=client_credentials&client_id={client_id}&client_secret=x", form=True
        )
        return body["access_token"]

    def promotion(self, token: str) -> str:
        return self.expect(201, "POST", "/v2/promotions", PROMOTION, {"Authorization": f"Bearer {token}"})["data"]["id"]

    def group(self, key: str, count: int = 1, length: int = 12) -> str:
        body = {"label": "Benchmark group", "codeLength": length, "totalCodesCount": count, "courses": [COURSE]}
        return self.expect(201, "POST", "/incoming/v2/redemptionCodes", body, {"Authorization": f"Bearer {key}"})["id"]

    def close(self) -> None:
        self.conn.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def setup_operation(server: Server, op: str, duration: float, tmp: Path) -> list[str]:
    """The wrk script's arguments; for codestand, the state the operation needs is created.

    Prism keeps no state and the bare Starlette endpoints none to speak of, so they get made-up
    keys and ids: the requests are the same either way.
    """
    real = server.kind == "codestand"
    client = Client(server.port) if real else None
    try:
        key = unique("bench")
        if op == "ti_create":
            return [key]
        if op == "ti_get":
            return [key, client.group(key) if real else str(uuid.uuid4())]
        if op == "ti_list":
            for _ in range(LIST_SIZE if real else 0):
                client.group(key)
            return [key]
        token = client.token(key) if real else uuid.uuid4().hex
        if op == "moltin_add_code":
            # 1000 codes a promotion: enough promotions that even 20,000 requests a second
            # never fill one; the script sends each request to the next.
            count = max(50, int(20 * duration))
            ids = [client.promotion(token) if real else str(uuid.uuid4()) for _ in range(count)]
            path = tmp / f"promotions-{key}.txt"
            path.write_text("\n".join(ids) + "\n")
            return [token, key, str(path)]
        if op == "moltin_list_codes":
            promotion = client.promotion(token) if real else str(uuid.uuid4())
            if real:
                codes = [{"code": f"{key}-{n}"} for n in range(LIST_SIZE)]
                client.expect(201, "POST", f"/v2/promotions/{promotion}/codes",
                              {"data": {"type": "promotion_codes", "codes": codes}}, {"Authorization": f"Bearer {token}"})  # fmt: skip
            return [token, promotion]
        raise ValueError(op)
    finally:
        if client:
            client.close()


# --- the measurements ---------------------------------------------------------------------


@dataclass
class Report:
    command: str
    started: datetime
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # configuration -> why
    throughput: dict = field(default_factory=dict)  # op -> connections -> server label -> WrkResult
    servers: list[str] = field(default_factory=list)
    startup: dict[str, list[float]] = field(default_factory=dict)
    bulk: dict = field(default_factory=dict)  # server label -> what -> list of seconds
    growth: dict = field(default_factory=dict)  # server label -> dict
    load: list[str] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def settle(servers: list[Server], timeout: float = 5.0) -> None:
    """Wait until no server is still busy (Prism, say, working off requests wrk left queued),
    so that the next point does not share the CPU with the last one's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(s.process.pid) for s in servers if s.process)
        time.sleep(0.2)
        if sum(cpu_seconds(s.process.pid) for s in servers if s.process) - before < 0.02:
            return


def measure_throughput(report: Report, servers: list[Server], concurrencies: list[int], duration: float, tmp: Path) -> None:
    """Every operation at every concurrency on every server, interleaved so noise hits all alike:
    the order of the servers turns by one at each point, and each run starts on a quiet machine."""
    turn = 0
    for op in OPERATIONS:
        for connections in concurrencies:
            turn += 1
            for server in servers[turn % len(servers) :] + servers[: turn % len(servers)]:
                args = setup_operation(server, op, duration, tmp)
                settle(servers)
                result = wrk(server.port, f"{op}.lua", args, connections, duration)
                report.throughput.setdefault(op, {}).setdefault(connections, {})[server.label] = result
                log(f"{op:18} c={connections:<3} {server.label:32} {result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms"
                    f"  p99 {result.p99_ms:7.2f} ms" + ("" if result.ok else f"  ERRORS {result.errors}"))  # fmt: skip


def measure_startup(report: Report, make_servers: dict, reps: int) -> None:
    for label, make in make_servers.items():
        times = []
        for _ in range(reps):
            server = make()
            try:
                times.append(server.start())
            finally:
                server.stop()
        report.startup[label] = times
        log(f"start-up {label:32} median {statistics.median(times) * 1000:.0f} ms ({', '.join(f'{t * 1000:.0f}' for t in times)})")


def measure_bulk(report: Report, server: Server, reps: int) -> None:
    client = Client(server.port)
    real = server.kind == "codestand"
    try:
        key = unique("bulk")
        groups, batches = [], []
        for _ in range(reps):
            body = {"label": "Bulk group", "codeLength": 12, "totalCodesCount": 10_000, "courses": [COURSE]}
            began = time.perf_counter()
            client.expect(201, "POST", "/incoming/v2/redemptionCodes", body, {"Authorization": f"Bearer {key}"})
            groups.append(time.perf_counter() - began)
        token = client.token(key) if real else uuid.uuid4().hex
        for n in range(reps):
            promotion = client.promotion(token) if real else str(uuid.uuid4())
            codes = [{"code": f"B{n}-{i:04d}"} for i in range(1000)]
            body = {"data": {"type": "promotion_codes", "codes": codes}}
            began = time.perf_counter()
            client.expect(201, "POST", f"/v2/promotions/{promotion}/codes", body, {"Authorization": f"Bearer {token}"})
            batches.append(time.perf_counter() - began)
        report.bulk[server.label] = {"group": groups, "batch": batches}
        log(f"bulk {server.label:32} 10,000-code group {statistics.median(groups) * 1000:.1f} ms,"
            f" 1000-code batch {statistics.median(batches) * 1000:.1f} ms")  # fmt: skip
    finally:
        client.close()


def fill(client: Client, key: str, codes: int) -> str:
    """`codes` codes in `key`'s tenant, 10,000 a group; returns the last group's id."""
    last, filled = "", 0
    while filled < codes:
        size = min(10_000, codes - filled)
        last = client.group(key, size)
        filled += size
    return last


def measure_growth(report: Report, server: Server, codes: int, duration: float, fresh: t.Callable[[], Server]) -> None:
    """p50 of create and get at one connection, empty and then with `codes` codes in the tenant;
    memory on a `fresh` server holding just those codes (the p50 runs add groups of their own)."""
    result: dict = {}
    memory = fresh()
    memory.start()
    client = Client(memory.port)
    try:
        result["rss_empty"] = memory.rss()
        began = time.perf_counter()
        fill(client, unique("growth"), codes)
        result["fill_s"] = time.perf_counter() - began
        result["codes"] = codes
        result["rss_full"] = memory.rss()
    finally:
        client.close()
        memory.stop()
    key = unique("growth")
    client = Client(server.port)
    try:
        first = client.group(key)
        result["create_empty"] = wrk(server.port, "ti_create.lua", [key], 1, duration)
        result["get_empty"] = wrk(server.port, "ti_get.lua", [key, first], 1, duration)
        last = fill(client, key, codes)
        result["create_full"] = wrk(server.port, "ti_create.lua", [key], 1, duration)
        result["get_full"] = wrk(server.port, "ti_get.lua", [key, last], 1, duration)
        report.growth[server.label] = result
        log(f"growth {server.label}: fill {result['fill_s']:.1f} s, RSS {result['rss_full'] / 2**20:.0f} MiB,"
            f" create p50 {result['create_empty'].p50_ms:.2f} -> {result['create_full'].p50_ms:.2f} ms,"
            f" get p50 {result['get_empty'].p50_ms:.2f} -> {result['get_full'].p50_ms:.2f} ms")  # fmt: skip
    finally:
        client.close()


# --- the report -------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.0f} GiB"
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores visible; memory {memory}",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
    ]


def versions() -> list[str]:
    def dist(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    def run(*command: str) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False, timeout=30)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not available"

    prism = "not installed"
    with contextlib.suppress(OSError, ValueError):
        prism = json.loads((BENCH / "node_modules/@stoplight/prism-cli/package.json").read_text())["version"]
    revision = run("git", "rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if run("git", "status", "--porcelain", "--untracked-files=no") not in ("", "not available") else ""
    python = f"Python {platform.python_version()}"
    packages = ", ".join(f"{n} {dist(n)}" for n in ("connexion", "starlette", "uvicorn", "uvloop", "httptools", "jsonschema"))
    return [
        f"codestand {dist('codestand')} at {revision}{dirty}",
        f"{python}; {packages}",
        f"Node.js {run('node', '--version')}; @stoplight/prism-cli {prism}",
        f"{run('wrk', '--version')}",
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def render(report: Report, args: argparse.Namespace) -> str:
    rec = f"codestand ({RECOMMENDED})"
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`benchmarks/run.py`); the section at the end is written by hand.",
        "The machines this runs on are shared and noisy, so the servers are measured side by side in one",
        "run, interleaved, and the figures to read are the ratios.",
        "",
        "## Machine and versions",
        "",
        *(f"- {line}" for line in machine() + versions()),
        f"- Run at {report.started:%Y-%m-%d %H:%M} UTC; load average at start and end: {' / '.join(report.load)}",
        f"- Command: `{report.command}`",
        f"- wrk: one thread, {args.duration:g} s per point, connections {', '.join(map(str, args.concurrency))}; "
        "every server on 127.0.0.1 beside wrk on the same 2 cores",
        "",
        "Servers:",
        "",
    ]
    for label, config in CONFIGS.items():
        why = report.skipped.get(label)
        shown = " ".join(config)
        lines.append(f"- codestand ({label}): `codestand serve {shown}`" + (f" -- **skipped**: {why}" if why else ""))
    lines += [
        "- bare Starlette: `benchmarks/bare_starlette.py`, the same operations without a spec, validation or state, "
        "on the same uvicorn (uvloop, httptools): the Python ceiling",
        "- Prism: `prism mock -v silent` on `codestand/openapi.yaml` with its `$ref`s written out "
        "(Prism 5.9 answers 500 to add codes otherwise); it answers the spec's examples and keeps no state",
        "",
        *(f"- Note: {n}" for n in report.notes),
        "",
    ]
    if report.throughput:
        lines += [
            "## Throughput",
            "",
            "Requests a second (higher is better); `x Prism` and `x Starlette` compare "
            f"{rec}, the recommended configuration, with each.",
            "",
        ]
        labels = report.servers
        lines.append("| operation | conns | " + " | ".join(labels) + " | x Prism | x Starlette |")
        lines.append("|---|---:|" + "---:|" * len(labels) + "---:|---:|")
        for op, by_conn in report.throughput.items():
            for conns, by_server in by_conn.items():
                cells = []
                for label in labels:
                    r = by_server.get(label)
                    cells.append("" if r is None else f"{r.rps:,.0f}" + ("" if r.ok else f" ({r.errors:,} errors)"))
                mine, prism, star = (by_server.get(k) for k in (rec, "Prism", "bare Starlette"))
                lines.append(
                    f"| {OPERATIONS[op]} | {conns} | " + " | ".join(cells)
                    + f" | {ratio(mine.rps, prism.rps) if mine and prism else 'n/a'}"
                    + f" | {ratio(mine.rps, star.rps) if mine and star else 'n/a'} |"
                )  # fmt: skip
        lines += ["", "Latency, p50 / p99 in milliseconds (lower is better):", ""]
        lines.append("| operation | conns | " + " | ".join(labels) + " |")
        lines.append("|---|---:|" + "---:|" * len(labels))
        for op, by_conn in report.throughput.items():
            for conns, by_server in by_conn.items():
                cells = [
                    f"{r.p50_ms:.2f} / {r.p99_ms:.2f}" if (r := by_server.get(label)) else "" for label in labels
                ]
                lines.append(f"| {OPERATIONS[op]} | {conns} | " + " | ".join(cells) + " |")
        lines.append("")
    if report.startup:
        lines += [
            "## Start-up",
            "",
            "From starting the process to its first answered request (`GET /incoming/v2/ping`), "
            f"{args.startup_reps} times each.",
            "",
            "| server | median | runs |",
            "|---|---:|---|",
        ]
        for label, times in report.startup.items():
            lines.append(f"| {label} | {ms(statistics.median(times))} | {', '.join(f'{t * 1000:.0f}' for t in times)} ms |")
        lines.append("")
    if report.bulk:
        lines += [
            "## Bulk",
            "",
            f"Median of {args.bulk_reps} sequential requests: a 10,000-code group (`codeLength` 12) and a "
            "1000-code batch on a new promotion. Prism is shown for context: it validates the request "
            "and answers its example.",
            "",
            "| server | 10,000-code group | codes/s | 1000-code batch | codes/s |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, b in report.bulk.items():
            g, c = statistics.median(b["group"]), statistics.median(b["batch"])
            lines.append(f"| {label} | {ms(g)} | {10_000 / g:,.0f} | {ms(c)} | {1000 / c:,.0f} |")
        lines.append("")
    if report.growth:
        lines += [
            "## Growth",
            "",
            "p50 at one connection of create (a group with one code) and get, with an empty store and "
            "then with the codes below in the same tenant (filled through the API, 10,000 a group). "
            "Fill time and resident memory (of the server's processes) on a second, fresh server holding "
            "just those codes: the p50 runs add groups of their own.",
            "",
            "| server | codes | fill | create p50 empty / full | ratio | get p50 empty / full | ratio | RSS empty | RSS full |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, g in report.growth.items():
            lines.append(
                f"| {label} | {g['codes']:,} | {g['fill_s']:.1f} s "
                f"| {g['create_empty'].p50_ms:.2f} / {g['create_full'].p50_ms:.2f} ms "
                f"| {ratio(g['create_full'].p50_ms, g['create_empty'].p50_ms)} "
                f"| {g['get_empty'].p50_ms:.2f} / {g['get_full'].p50_ms:.2f} ms "
                f"| {ratio(g['get_full'].p50_ms, g['get_empty'].p50_ms)} "
                f"| {g['rss_empty'] / 2**20:.0f} MiB | {g['rss_full'] / 2**20:.0f} MiB |"
            )
        lines.append("")
    lines += aims(report, rec)
    return "\n".join(lines) + "\n"


def aims(report: Report, rec: str) -> list[str]:
    rows = []

    def row(aim: str, value: str, met: bool | None) -> None:
        rows.append(f"| {aim} | {value} | {'n/a' if met is None else ('met' if met else '**not met**')} |")

    pairs = [
        (op, conns, by_server.get(rec), by_server.get("Prism"), by_server.get("bare Starlette"))
        for op, by_conn in report.throughput.items()
        for conns, by_server in by_conn.items()
    ]
    vs_prism = [(m.rps / p.rps, op, c) for op, c, m, p, _ in pairs if m and p]
    if vs_prism:
        low = min(vs_prism)
        row("throughput at least 2x Prism's on every operation", f"lowest {low[0]:.2f}x ({OPERATIONS[low[1]]}, {low[2]} conns)", low[0] >= 2)
    vs_star = [(m.rps / s.rps, op, c) for op, c, m, _, s in pairs if m and s]
    if vs_star:
        low = min(vs_star)
        row("at least half the bare-Starlette ceiling", f"lowest {low[0]:.2f}x ({OPERATIONS[low[1]]}, {low[2]} conns)", low[0] >= 0.5)
    if rec in report.startup and "Prism" in report.startup:
        r = statistics.median(report.startup[rec]) / statistics.median(report.startup["Prism"])
        row("start-up at most half of Prism's", f"{r:.2f}x", r <= 0.5)
    g = report.growth.get(rec)
    if g:
        worst = max(g["create_full"].p50_ms / g["create_empty"].p50_ms, g["get_full"].p50_ms / g["get_empty"].p50_ms)
        row(f"p50 at {g['codes']:,} codes at most 1.5x p50 empty", f"worst {worst:.2f}x", worst <= 1.5)
        row(f"memory at {g['codes']:,} codes under 300 MB", f"{g['rss_full'] / 1e6:.0f} MB", g["rss_full"] < 300e6)
    if not rows:
        return []
    return ["## Aims", "", f"Judged on {rec}.", "", "| aim | measured | |", "|---|---|---|", *rows, ""]


def keep_hand_written(path: Path) -> str:
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if MARKER in text:
            return text[text.index(MARKER) :]
    return MARKER + "\n\n## What each change bought\n\n(to be written)\n"


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds of wrk per point (default 5)")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 64])
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default={"throughput", "startup", "bulk", "growth"})
    parser.add_argument("--config", action="append", default=[], metavar='LABEL=["--flag", ...]',
                        help="add or replace a codestand configuration (a JSON list of `codestand serve` arguments)")  # fmt: skip
    parser.add_argument("--growth-codes", type=int, default=1_000_000)
    parser.add_argument("--startup-reps", type=int, default=5)
    parser.add_argument("--bulk-reps", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    for item in args.config:
        label, _, flags = item.partition("=")
        CONFIGS[label] = json.loads(flags)

    report = Report(command=" ".join(["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
                    started=datetime.now(timezone.utc))  # fmt: skip
    report.load.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    have_wrk = ensure_wrk()
    if not have_wrk:
        message = (
            "wrk is not installed and could not be (Debian/Ubuntu: apt-get update && apt-get install wrk; "
            "macOS: brew install wrk): throughput and growth are skipped"
        )
        log(message)
        report.notes.append(message)
    prism_problem = ensure_prism()
    if prism_problem:
        log(f"Prism is not measured: {prism_problem}")
        report.notes.append(f"Prism is not measured: {prism_problem}")

    offered = offered_flags()
    configs = {}
    for label, flags in CONFIGS.items():
        missing = missing_flags(flags, offered)
        if missing:
            report.skipped[label] = f"`codestand serve --help` offers no {', '.join(missing)}"
            log(f"skipping codestand ({label}): {report.skipped[label]}")
        else:
            configs[label] = flags

    with tempfile.TemporaryDirectory(prefix="codestand-bench-") as scratch:
        tmp = Path(scratch)
        spec = prism_spec(tmp) if not prism_problem else None

        def start_all(servers: list[Server]) -> list[Server]:
            running = []
            for server in servers:
                try:
                    server.start()
                    running.append(server)
                except RuntimeError as exc:
                    log(str(exc))
                    report.notes.append(f"{server.label} did not start: {exc}")
            return running

        if "throughput" in args.only and have_wrk:
            candidates = [codestand_server(label, flags, Path(tempfile.mkdtemp(dir=tmp))) for label, flags in configs.items()]
            candidates.append(starlette_server(tmp))
            if spec:
                candidates.append(prism_server(spec, tmp))
            servers = start_all(candidates)
            report.servers = [s.label for s in servers]
            try:
                measure_throughput(report, servers, args.concurrency, args.duration, tmp)
            finally:
                for s in servers:
                    s.stop()

        if "startup" in args.only:
            makers = {}
            for label, flags in configs.items():
                if label in (RECOMMENDED, *BACKENDS):
                    makers[f"codestand ({label})"] = (
                        lambda label=label, flags=flags: codestand_server(label, flags, Path(tempfile.mkdtemp(dir=tmp)))
                    )
            if spec:
                makers["Prism"] = lambda: prism_server(spec, tmp)
            measure_startup(report, makers, args.startup_reps)

        for section, needs_wrk in (("bulk", False), ("growth", True)):
            if section not in args.only or (needs_wrk and not have_wrk):
                continue
            labels = [label for label in BACKENDS if label in configs]
            servers = [codestand_server(label, configs[label], Path(tempfile.mkdtemp(dir=tmp))) for label in labels]
            if section == "bulk" and spec:
                servers.append(prism_server(spec, tmp))
            for server in servers:
                if not start_all([server]):
                    continue
                try:
                    if section == "bulk":
                        measure_bulk(report, server, args.bulk_reps)
                    else:
                        label = next(label for label in labels if server.label == f"codestand ({label})")
                        measure_growth(report, server, args.growth_codes, args.duration,
                                       lambda: codestand_server(label, configs[label], Path(tempfile.mkdtemp(dir=tmp))))  # fmt: skip
                except (OSError, RuntimeError, http.client.HTTPException) as exc:
                    log(f"{section} on {server.label} failed: {exc!r}")
                    report.notes.append(f"{section} on {server.label} failed: {exc!r}")
                finally:
                    server.stop()

    report.load.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    text = render(report, args)
    args.output.write_text(text + "\n" + keep_hand_written(args.output), encoding="utf-8")
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
