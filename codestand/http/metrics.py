"""`/__codestand/metrics`: what this process answered, in Prometheus' text format
(prometheus-client).

- `codestand_requests_total{vendor, operation, status}`: requests answered, by the operation of
  the contract they reached (its operationId's last part; `unknown` for a path of no operation,
  so that stray paths cannot grow the label set);
- `codestand_request_duration_seconds{vendor, operation}`: a latency histogram;
- `codestand_stored_codes{vendor}`: codes the store holds, all tenants together;
- `codestand_promotion_jobs_unfinished{status}`: Moltin promotion jobs waiting (`pending`) and
  running (`processing`), all tenants together; a store's queue moves on when it is read (see
  `moltin.jobs`), so a job is counted as its store's last read left it;
- `codestand_storage_up`: 1 if the store answered the scrape, else 0;
- `codestand_db_connections{state}`: the PostgreSQL pool (`open`, `idle`, `waiting`).

With `--workers`, the workers write their counts to files in `PROMETHEUS_MULTIPROC_DIR` (the
command line makes one) and a scrape answered by any worker adds up all of them. Each replica
of a PostgreSQL deployment is scraped on its own, as Prometheus does for any target.
"""

from __future__ import annotations

import os
import re
import typing as t

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from codestand.http.vendors import vendor_of

_METHODS = ("get", "put", "post", "delete", "patch")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Operations:
    """(method, path) -> the operation's name, from the contracts."""

    def __init__(self, *specs: dict) -> None:
        self._routes: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for spec in specs:
            base = (spec.get("servers") or [{"url": "/"}])[0]["url"].rstrip("/")
            for template, item in spec.get("paths", {}).items():
                pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(base + template)) + "$")
                for method in _METHODS:
                    if method in item and "operationId" in item[method]:
                        name = item[method]["operationId"].rsplit(".", 1)[-1]
                        self._routes.setdefault(method.upper(), []).append((pattern, name))

    def name(self, method: str, path: str) -> str:
        for pattern, name in self._routes.get(method, ()):
            if pattern.match(path):
                return name
        return "unknown"


class _StoreCollector:
    """Read at each scrape, from the store: what it holds, and whether it answers."""

    def __init__(self, store: t.Any) -> None:
        self.store = store

    def collect(self) -> t.Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("codestand_storage_up", "1 if the store answered this scrape, else 0")
        codes = GaugeMetricFamily("codestand_stored_codes", "Codes the store holds, all tenants together", labels=["vendor"])
        try:
            stored = self.store.stored_codes()
            unfinished = self.store.unfinished_job_counts()
        except Exception:  # noqa: BLE001  # any failure of the store is what this gauge reports
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
            for vendor, count in sorted(stored.items()):
                codes.add_metric([vendor], count)
            yield codes
            jobs = GaugeMetricFamily(
                "codestand_promotion_jobs_unfinished", "Promotion jobs waiting (pending) and running (processing)", labels=["status"]
            )
            for status, count in unfinished.items():
                jobs.add_metric([status], count)
            yield jobs
        yield up
        connections = getattr(self.store, "connections", None)
        if connections is not None:
            pool = GaugeMetricFamily("codestand_db_connections", "The PostgreSQL connection pool of this process", labels=["state"])
            for state, count in connections().items():
                pool.add_metric([state], count)
            yield pool


class Metrics:
    def __init__(self, store: t.Any, *specs: dict) -> None:
        self.operations = Operations(*specs)
        self.store = store
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "codestand_requests", "Requests answered", ["vendor", "operation", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "codestand_request_duration_seconds",
            "Time from a request's arrival to the end of its answer",
            ["vendor", "operation"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        vendor = vendor_of(path) or "none"
        operation = self.operations.name(method, path)
        self.requests.labels(vendor, operation, str(status or "-")).inc()
        self.latency.labels(vendor, operation).observe(seconds)

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(_Registered(self.registry))
        registry.register(_StoreCollector(self.store))
        return generate_latest(registry)


class _Registered:
    """This process's own counters, inside a registry built for one scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        return self.registry.collect()
