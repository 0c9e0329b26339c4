"""Prometheus metrics, one CollectorRegistry per app (so apps in one test process never mix).

    hunter_http_requests_total{route,method,status}       counter; route is the template
    hunter_http_request_duration_seconds{route,method}    histogram, seconds
    hunter_cache_hits_total / hunter_cache_misses_total   counters
    hunter_rate_limited_total                             counter, requests answered 429
    hunter_db_pool_size / hunter_db_pool_checked_out      gauges, read at scrape time
    hunter_app_info{version}                              info (value 1)
"""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, version: str, pool_size: Callable[[], float], pool_checked_out: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("hunter_http_requests", "HTTP requests by route template, method and status",
                                ("route", "method", "status"), registry=self.registry)
        self.latency = Histogram("hunter_http_request_duration_seconds", "HTTP request latency in seconds",
                                 ("route", "method"), buckets=LATENCY_BUCKETS, registry=self.registry)
        self.cache_hits = Counter("hunter_cache_hits", "Cache lookups that hit", registry=self.registry)
        self.cache_misses = Counter("hunter_cache_misses", "Cache lookups that missed", registry=self.registry)
        self.rate_limited = Counter("hunter_rate_limited", "Requests answered 429", registry=self.registry)
        size = Gauge("hunter_db_pool_size", "Database connection pool size", registry=self.registry)
        size.set_function(pool_size)
        checked_out = Gauge("hunter_db_pool_checked_out", "Database connections checked out",
                            registry=self.registry)
        checked_out.set_function(pool_checked_out)
        Info("hunter_app", "The running Hunter API version", registry=self.registry).info({"version": version})

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
