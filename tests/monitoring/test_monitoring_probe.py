"""The `metrics.window` probe on stored samples: WARN while measuring, PASS / FAIL on a measured
window, against a real sandbox API; the default checklist's items validate."""

from __future__ import annotations

import asyncio
import time

from hunter_console.audit import AuditLog
from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import Status
from hunter_console.monitoring import SampleStore
from hunter_console.probes import ProbeContext
from hunter_console.probes.registry import run_probe, spec_problems
from monitoring_helpers import steady_series


def spec(**params) -> ProbeSpec:
    return ProbeSpec("metrics.window", params, interval=0.5, timeout=5.0)


async def probe_while_traffic(context, sandbox, the_spec, seconds: float):
    results = []

    async def probing():
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            results.append(await run_probe(the_spec, context, item_id="mon.error-rate"))
            await asyncio.sleep(0.5)

    await asyncio.gather(probing(), sandbox.traffic(seconds))
    return results


def test_the_default_checklist_window_specs_are_valid():
    from hunter_console.checklist import load_checklist

    items = [i for i in load_checklist(None).items() if i.probe is not None and i.probe.kind == "metrics.window"]
    assert len(items) == 6
    assert all(spec_problems(i.probe) == [] for i in items)


async def test_warn_measuring_then_pass_then_fail(sandbox, sandbox_settings, audit_path):
    audit = AuditLog(audit_path)
    try:
        async with ProbeContext.open(sandbox_settings, audit=audit) as context:
            first = await run_probe(spec(window="1h", metric="error_rate", max=0.01), context, item_id="mon.1h")
            assert first.status is Status.WARN
            assert first.reason.startswith("measuring: 0 of 60 min"), first.reason
            assert first.value["state"] == "measuring"

            short = spec(window="4s", metric="error_rate", max=0.01, max_gap=2)
            results = await probe_while_traffic(context, sandbox, short, 7.0)
            assert results[0].status is Status.WARN
            assert results[-1].status is Status.PASS, results[-1].reason
            assert "over the last 4s" in results[-1].reason

            await sandbox.set_faults(error_rate=0.5)
            results = await probe_while_traffic(context, sandbox, short, 7.0)
            assert results[-1].status is Status.FAIL, results[-1].reason
            assert "limit < 1%" in results[-1].reason
        with SampleStore(audit_path) as store:
            assert store.count("local") >= 10  # every probe run kept its scrape
    finally:
        audit.close()


async def test_pass_on_a_stored_hour(sandbox, sandbox_settings, audit_path):
    """A console that has been sampling for an hour (stored samples) judges the whole hour."""
    now = time.time()
    with SampleStore(audit_path) as store:
        store.add_many("local", steady_series(now - 3600, 3590, 30, error_ratio=0.001, hit_ratio=0.9))
    audit = AuditLog(audit_path)
    try:
        async with ProbeContext.open(sandbox_settings, audit=audit) as context:
            for metric, extra in (("error_rate", {"max": 0.01}), ("p95_ms", {"max": 500.0}),
                                  ("cache_hit_rate", {"min": 0.5}), ("pool", {})):
                result = await run_probe(spec(window="1h", metric=metric, **extra), context, item_id=metric)
                assert result.status is Status.PASS, (metric, result.reason)
            stable = await run_probe(spec(window="1h", metric="error_rate", max=0.01, stable=True), context)
            assert stable.status is Status.PASS and "in every slice" in stable.reason
    finally:
        audit.close()


async def test_without_an_audit_database_it_warns_not_measured(sandbox, sandbox_settings):
    async with ProbeContext.open(sandbox_settings) as context:
        result = await run_probe(spec(window="1h", metric="error_rate"), context)
    assert result.status is Status.WARN and "not yet measured" in result.reason and "no audit database" in result.reason


async def test_bad_window_is_an_error(sandbox, sandbox_settings, audit_path):
    async with ProbeContext.open(sandbox_settings, audit=AuditLog(audit_path)) as context:
        result = await run_probe(spec(window="1d", metric="error_rate"), context)
        context.audit.close()
    assert result.status is Status.ERROR and "window '1d'" in result.reason


async def test_measuring_but_failing_since_the_api_started_fails_now(sandbox, sandbox_settings, audit_path):
    await sandbox.set_faults(error_rate=1.0)
    await sandbox.traffic(0.5, concurrency=2)
    audit = AuditLog(audit_path)
    try:
        async with ProbeContext.open(sandbox_settings, audit=audit) as context:
            result = await run_probe(spec(window="1h", metric="error_rate", max=0.01), context)
    finally:
        audit.close()
    assert result.status is Status.FAIL
    assert "since the API started; measuring: 0 of 60 min" in result.reason
