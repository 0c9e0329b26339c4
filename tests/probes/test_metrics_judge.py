"""Judging a Prometheus scrape: the text comes from the sandbox's own metrics registry."""

from __future__ import annotations

import math

from hunter_console.events import Status
from hunter_console.probes.metrics import Scrape, histogram_quantile, judge
from hunter_console.sandbox.metrics import Metrics


def scrape_of(metrics: Metrics) -> Scrape:
    return Scrape.parse(metrics.render().decode())


def fresh(size=10, out=2) -> Metrics:
    return Metrics("v1.0.0", lambda: size, lambda: out)


def test_histogram_quantile_like_prometheus():
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == 0.1
    assert abs(histogram_quantile(0.95, buckets) - 0.75) < 1e-9
    assert histogram_quantile(0.99, [(0.1, 0.0), (math.inf, 10.0)]) == 0.1  # beyond the last bound
    assert math.isnan(histogram_quantile(0.95, [(0.1, 0.0), (math.inf, 0.0)]))


def test_error_rate_counts_5xx_of_api_routes_only():
    m = fresh()
    for _ in range(198):
        m.observe("/api/v1/leads", "GET", 200, 0.01)
    m.observe("/api/v1/scan", "POST", 500, 0.01)
    for _ in range(50):
        m.observe("/healthz/ready", "GET", 503, 0.001)  # not API traffic
    ok = judge(scrape_of(m), {"metric": "error_rate", "max": 0.01})
    assert ok.status is Status.PASS and ok.value == {"rate": 0.00503, "errors": 1, "requests": 199}, ok
    for _ in range(3):
        m.observe("/leads", "GET", 502, 0.01)  # the legacy routes are API traffic too
    bad = judge(scrape_of(m), {"metric": "error_rate", "max": 0.01})
    assert bad.status is Status.FAIL and "4 of 202 API requests were 5xx" in bad.reason, bad


def test_no_traffic_is_a_warning_not_a_pass():
    result = judge(scrape_of(fresh()), {"metric": "error_rate"})
    assert result.status is Status.WARN and "no API requests" in result.reason
    assert judge(scrape_of(fresh()), {"metric": "p95_ms"}).status is Status.WARN
    assert judge(scrape_of(fresh()), {"metric": "cache_hit_rate"}).status is Status.WARN


def test_p95_from_the_buckets():
    m = fresh()
    for _ in range(90):
        m.observe("/api/v1/leads", "GET", 200, 0.02)
    for _ in range(10):
        m.observe("/api/v1/leads", "GET", 200, 0.6)
    slow = judge(scrape_of(m), {"metric": "p95_ms", "max": 500})
    assert slow.status is Status.FAIL and 500 <= slow.value["p95_ms"] <= 750, slow
    fast = fresh()
    for _ in range(100):
        fast.observe("/api/v1/leads", "GET", 200, 0.02)
    ok = judge(scrape_of(fast), {"metric": "p95_ms", "max": 500})
    assert ok.status is Status.PASS and ok.value["p95_ms"] <= 25, ok


def test_cache_hit_rate_and_pool():
    m = fresh(size=10, out=10)
    m.cache_hits.inc(3)
    m.cache_misses.inc(7)
    low = judge(scrape_of(m), {"metric": "cache_hit_rate", "min": 0.5})
    assert low.status is Status.FAIL and "30%" in low.reason
    m.cache_hits.inc(20)
    assert judge(scrape_of(m), {"metric": "cache_hit_rate", "min": 0.5}).status is Status.PASS
    full = judge(scrape_of(m), {"metric": "pool"})
    assert full.status is Status.PASS and "10 of 10" in full.reason
    over = judge(scrape_of(fresh(size=5, out=8)), {"metric": "pool"})
    assert over.status is Status.PASS and "overflow" in over.reason
    assert judge(scrape_of(fresh(size=10, out=3)), {"metric": "pool"}).status is Status.PASS
    assert judge(scrape_of(fresh(size=10, out=9)), {"metric": "pool", "max": 0.8}).status is Status.FAIL


def test_missing_instrumentation_fails():
    empty = Scrape.parse("# nothing here\n")
    for metric in ("error_rate", "p95_ms", "cache_hit_rate", "pool"):
        assert judge(empty, {"metric": metric}).status is Status.FAIL, metric
