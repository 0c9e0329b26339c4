"""HTTP, metrics and rate-limit probes against a running sandbox Hunter API (uvicorn subprocess);
faults flipped through its admin endpoint. Plus the dead ends: a closed port, a blackhole, an
unknown host name."""

from __future__ import annotations

import asyncio
import time

import pytest

from hunter_console.events import Status
from hunter_console.probes import run_probe

from probe_helpers import environ_for, item, make_environment, reset_rate_limit


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.reset_faults()
    reset_rate_limit()
    yield
    sandbox.reset_faults()


async def probe(open_context, base_url, kind, timeout=5.0, environ=None, **params):
    async with open_context(environ if environ is not None else environ_for(), base_url=base_url) as ctx:
        return await run_probe(item("t." + kind, kind, timeout=timeout, **params), ctx)


async def test_health_endpoints_and_fail_ready(open_context, sandbox):
    for path in ("/healthz/live", "/healthz/ready", "/healthz/startup", "/healthz/metrics"):
        result = await probe(open_context, sandbox.base_url, "http", path=path)
        assert result.status is Status.PASS and result.reason.startswith(f"GET {path} answered 200"), result
    sandbox.faults(fail_ready=True)
    ready = await probe(open_context, sandbox.base_url, "http", path="/healthz/ready")
    assert ready.status is Status.FAIL and "answered 503, expected 200" in ready.reason, ready
    assert "fail_ready" in ready.reason  # the body's first words say why


async def test_core_endpoints(open_context, sandbox):
    leads = await probe(open_context, sandbox.base_url, "http", path="/api/v1/leads")
    scan = await probe(open_context, sandbox.base_url, "http", path="/api/v1/scan", method="POST",
                       json={"domain": "example.com"})
    summary = await probe(open_context, sandbox.base_url, "http", path="/api/v1/leads/example.com/sales-summary")
    assert [r.status for r in (leads, scan, summary)] == [Status.PASS] * 3, (leads, scan, summary)


async def test_auth_and_auth_off(open_context, sandbox):
    ok = await probe(open_context, sandbox.base_url, "http.auth")
    assert ok.status is Status.PASS and ok.value == {"no_key": 401, "wrong_key": 401, "with_key": 200}, ok
    sandbox.faults(auth_off=True)
    off = await probe(open_context, sandbox.base_url, "http.auth")
    assert off.status is Status.FAIL and "authentication is off" in off.reason


async def test_not_found_and_500_for_404(open_context, sandbox):
    ok = await probe(open_context, sandbox.base_url, "http.not_found")
    assert ok.status is Status.PASS, ok
    sandbox.faults(**{"500_for_404": True})
    bad = await probe(open_context, sandbox.base_url, "http.not_found")
    assert bad.status is Status.FAIL and "answered 500, expected 404" in bad.reason


async def test_versioning_and_legacy_gone(open_context, sandbox):
    ok = await probe(open_context, sandbox.base_url, "http.versioning")
    assert ok.status is Status.PASS and ok.value == {"/api/v1/leads": 200, "/leads": 200}, ok
    sandbox.faults(legacy_gone=True)
    gone = await probe(open_context, sandbox.base_url, "http.versioning")
    assert gone.status is Status.FAIL and "/leads 404" in gone.reason


async def test_bulk_scan_and_cache(open_context, sandbox):
    bulk = await probe(open_context, sandbox.base_url, "http.bulk_scan", count=10, within_s=5)
    assert bulk.status is Status.PASS and bulk.value["ok"] == 10, bulk
    cache = await probe(open_context, sandbox.base_url, "http.cache")
    assert cache.status is Status.PASS and "cache hit" in cache.reason, cache
    sandbox.faults(low_cache_hit=True)
    miss = await probe(open_context, sandbox.base_url, "http.cache")
    assert miss.status is Status.FAIL and "X-Cache: MISS" in miss.reason


async def test_rate_limit_burst_and_rate_limit_off(open_context, sandbox):
    start = time.perf_counter()
    ok = await probe(open_context, sandbox.base_url, "ratelimit", timeout=10, max_requests=200, max_seconds=5)
    assert ok.status is Status.PASS and ok.value["statuses"]["429"] >= 1 and ok.value["sent"] <= 80, ok
    assert 1 <= int(ok.value["retry_after"]) <= 61
    reset_rate_limit()
    sandbox.faults(rate_limit_off=True)
    off = await probe(open_context, sandbox.base_url, "ratelimit", timeout=10, max_requests=150, max_seconds=5)
    assert off.status is Status.FAIL and off.reason.startswith("150 requests in ") and "rate limiting is off" in off.reason
    assert time.perf_counter() - start < 8


async def _clear_of_the_window_edge(margin_s: float = 5.0) -> None:
    """The sandbox limits per fixed minute: wait out the last seconds of one, so a burst and the
    request after it cannot straddle two windows (the second would start a fresh quota)."""
    from hunter_console.sandbox.ratelimit import WINDOW_S

    left = WINDOW_S - time.time() % WINDOW_S
    if left < margin_s:
        await asyncio.sleep(left + 0.1)


async def test_a_spent_quota_is_waited_out_not_failed(open_context, sandbox):
    async with open_context(environ_for(), base_url=sandbox.base_url) as ctx:
        burst = await run_probe(item("t.rl", "ratelimit", timeout=10, max_requests=200), ctx)
        assert burst.status is Status.PASS and ctx.quota_wait() > 0
        reset_rate_limit()  # the window "resets" early; the context still waits its Retry-After ...
        ctx.rate_limited_until = time.monotonic() + 0.3  # ... which we shorten for the test
        start = time.perf_counter()
        leads = await run_probe(item("t.leads", "http", path="/api/v1/leads", timeout=1), ctx)
        assert leads.status is Status.PASS and time.perf_counter() - start >= 0.25, leads
    await _clear_of_the_window_edge()  # the burst and the request after it in one rate-limit window
    async with open_context(environ_for(), base_url=sandbox.base_url) as ctx:
        await run_probe(item("t.rl", "ratelimit", timeout=10, max_requests=200), ctx)
        ctx.rate_limited_until = 0  # a console that does not know: the 429 is an ERROR, not a FAIL
        limited = await run_probe(item("t.leads", "http", path="/api/v1/leads"), ctx)
        assert limited.status is Status.ERROR and "rate limited (429, retry after" in limited.reason, limited


async def test_metrics_after_traffic(open_context, sandbox):
    sandbox.traffic("/api/v1/leads", 6)
    for metric in ("error_rate", "p95_ms", "cache_hit_rate", "pool"):
        result = await probe(open_context, sandbox.base_url, "metrics", metric=metric)
        assert result.status is Status.PASS, result
    window = await probe(open_context, sandbox.base_url, "metrics.window", metric="error_rate", window="1h")
    assert window.status is Status.WARN and window.reason.startswith("window 1h not yet measured; now: error rate")


async def test_latency_fault_is_cut_at_the_probe_timeout(open_context, sandbox):
    sandbox.faults(latency_ms=3000)
    start = time.perf_counter()
    slow = await probe(open_context, sandbox.base_url, "http", path="/api/v1/leads", timeout=0.5)
    assert slow.status is Status.ERROR and slow.reason == "no answer within 0.5 s", slow
    assert time.perf_counter() - start < 1.2


async def test_api_unreachable(open_context, closed_port, blackhole):
    refused = await probe(open_context, f"http://127.0.0.1:{closed_port}", "http", path="/healthz/live")
    assert refused.status is Status.ERROR and refused.reason == "GET /healthz/live: connection refused", refused
    unknown = await probe(open_context, "http://nonexistent.invalid:8000", "http", path="/healthz/live")
    assert unknown.status is Status.ERROR and "unknown host" in unknown.reason, unknown
    start = time.perf_counter()
    hole = await probe(open_context, f"http://127.0.0.1:{blackhole}", "http.auth", timeout=0.5)
    assert hole.status is Status.ERROR and time.perf_counter() - start < 1.2, hole
    metrics = await probe(open_context, f"http://127.0.0.1:{blackhole}", "metrics", metric="error_rate", timeout=0.5)
    assert metrics.status is Status.ERROR


async def test_the_api_key_never_shows(open_context, sandbox):
    from probe_helpers import API_KEY

    sandbox.faults(latency_ms=0)
    results = [await probe(open_context, sandbox.base_url, kind) for kind in ("http.auth", "env")
               if kind != "env"]
    env = await probe(open_context, sandbox.base_url, "env", var="HUNTER_API_KEY")
    for result in results + [env]:
        assert API_KEY not in result.reason and API_KEY not in str(result.value)
    assert env.value == f"*** ({len(API_KEY)} chars)"
    assert make_environment  # helpers importable
