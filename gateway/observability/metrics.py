"""Prometheus metrics of one gateway process, in a registry of its own.

A private :class:`~prometheus_client.CollectorRegistry` per process (not the library's
global one) lets tests run several gateways in one interpreter and read each one's
counters exactly.  Labels are bounded sets: front end, method, gRPC code name, tenant id
(from the tenants file), SMC Action and error code, budget name.  Never an id of a call,
job, source server or key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "GatewayMetrics", "ReloadCounts"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds; the gateway's own work is sub-millisecond, SMC answers in tens to hundreds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# (reloads_ok, reloads_failed) of the tenants file, read at scrape time.
ReloadCounts = Callable[[], tuple[int, int]]


class _Reloads(Collector):
    """Config reloads as counters read from the watcher's own tallies (no second count)."""

    def __init__(self, counts: Callable[[], ReloadCounts | None]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "smc_gateway_config_reloads",
            "Reloads of the tenants file, by result (ok: applied; failed: kept the last good).",
            labels=["result"],
        )
        source = self._counts()
        ok, failed = source() if source is not None else (0, 0)
        family.add_metric(["ok"], ok)
        family.add_metric(["failed"], failed)
        yield family


M = TypeVar("M", Counter, Gauge, Histogram)


class Children(Generic[M]):
    """``metric.labels(*values)``, remembered: prometheus_client checks the values and
    takes a lock on every ``labels`` call, several times per gateway call otherwise.

    Label values here are bounded (front ends, methods, codes, tenants, Actions).
    """

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class GatewayMetrics:
    """Every metric the gateway exports; :meth:`render` is the ``/metrics`` body."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "smc_gateway_requests",
            "Calls answered, by front end, method, gRPC status code name and tenant "
            "(empty when the caller was not authenticated).",
            ["frontend", "method", "code", "tenant"],
            registry=r,
        )
        self.latency = Histogram(
            "smc_gateway_request_duration_seconds",
            "Time from the front end handing a call to the core until its answer.",
            ["frontend", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "smc_gateway_in_flight_calls",
            "Calls being processed by the core now.",
            ["frontend"],
            registry=r,
        )
        self.upstream_attempts = Counter(
            "smc_gateway_upstream_attempts",
            "HTTP attempts at SMC, by Action and result code (OK, SMC's Code, or a "
            "transport failure class).",
            ["action", "code"],
            registry=r,
        )
        self.upstream_latency = Histogram(
            "smc_gateway_upstream_attempt_duration_seconds",
            "Duration of one SMC attempt.",
            ["action"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "smc_gateway_upstream_retries",
            "Attempts the SMC client decided to repeat, by Action.",
            ["action"],
            registry=r,
        )
        self.rate_limited = Counter(
            "smc_gateway_rate_limited",
            "Calls refused by a rate-limit budget, by tenant and budget name.",
            ["tenant", "budget"],
            registry=r,
        )
        self.idempotency = Counter(
            "smc_gateway_idempotency_decisions",
            "Keyed writes by decision: started, replayed, mismatch (key reused with "
            "another request), in_flight, unavailable (store down, ran unrecorded).",
            ["decision"],
            registry=r,
        )
        self.store_errors = Counter(
            "smc_gateway_redis_errors",
            "Failed operations on the shared store (Redis), by component.",
            ["component"],
            registry=r,
        )
        # The per-call metrics, through remembered children.
        self.requests_of = Children(self.requests)
        self.latency_of = Children(self.latency)
        self.in_flight_of = Children(self.in_flight)
        self.upstream_attempts_of = Children(self.upstream_attempts)
        self.upstream_latency_of = Children(self.upstream_latency)
        self._reload_counts: ReloadCounts | None = None
        r.register(_Reloads(lambda: self._reload_counts))

    def watch_reloads(self, counts: ReloadCounts) -> None:
        """Report config reloads from ``counts`` (the tenants-file watcher's tallies)."""
        self._reload_counts = counts

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
