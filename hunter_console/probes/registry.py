"""Probe kind -> probe function, spec validation, and `run_probe`, the one way a probe is run.

    kind                 module                         what it checks
    env                  probes/env.py                  a variable is set / equals / is a URL / a DSN
    http                 probes/http.py                 an endpoint answers the expected status
    http.auth            probes/http.py                 the API refuses requests without a valid key
    http.not_found       probes/http.py                 an unknown path is a clean 404, not a 500
    http.versioning      probes/http.py                 /api/v1/... and the legacy routes both answer
    http.bulk_scan       probes/http.py                 N scans complete within a time budget
    http.cache           probes/http.py                 a repeated request is a cache hit
    postgres.revision    probes/postgres.py             alembic_version is the expected head
    postgres.columns     probes/postgres.py             the G20 columns exist
    postgres.pool        probes/postgres.py             connection headroom on the server
    redis.ping           probes/cache.py                Redis answers PING
    metrics              probes/metrics.py              error rate, P95, cache hit rate, pool gauges
    metrics.window       probes/metrics.py              the same, judged over stored samples (monitoring/): WARN while measuring
    ratelimit            probes/ratelimit.py            a bounded burst meets 429 with Retry-After
    backup.fresh         probes/backup.py               a verified backup of this release, fresh enough
    sentry               probes/sentry.py               SENTRY_DSN is present and well formed
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from hunter_console.checklist.model import Item, ProbeSpec
from hunter_console.events import ProbeResult, Status
from hunter_console.probes import backup, cache, env, http, metrics, postgres, ratelimit, sentry  # noqa: F401 - register
from hunter_console.probes.base import KINDS, ProbeContext, ProbeKind, describe_exception, errored, one_line
from hunter_console.redact import redact, redact_obj

__all__ = ["KINDS", "ProbeKind", "kind_of", "spec_problems", "run_probe"]


def kind_of(kind: str) -> ProbeKind | None:
    return KINDS.get(kind)


def spec_problems(spec: ProbeSpec) -> list[str]:
    """What is wrong with a spec: an unknown kind, unknown or missing params, a bad timeout."""
    known = KINDS.get(spec.kind)
    if known is None:
        return [f"unknown probe kind '{spec.kind}'"]
    problems = []
    unknown = sorted(set(spec.params) - known.params)
    if unknown:
        problems.append(f"{spec.kind}: unknown param{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
                        f" (accepted: {', '.join(sorted(known.params)) or 'none'})")
    missing = sorted(known.required - set(spec.params))
    if missing:
        problems.append(f"{spec.kind}: missing param{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if not spec.timeout > 0:
        problems.append(f"{spec.kind}: timeout must be > 0, not {spec.timeout}")
    if not spec.interval > 0:
        problems.append(f"{spec.kind}: interval must be > 0, not {spec.interval}")
    return problems


async def run_probe(item: Item | ProbeSpec, context: ProbeContext, *, item_id: str | None = None) -> ProbeResult:
    """Run one probe under its timeout. Never raises (except on cancellation): whatever the probe
    does — raises, hangs, returns junk — the answer is a ProbeResult with a one-line, redacted
    reason, the observed value (redacted) and the wall time it took."""
    spec = item.probe if isinstance(item, Item) else item
    rid = item_id if item_id is not None else (item.id if isinstance(item, Item) else "")
    start = time.perf_counter()
    result = await _guarded(spec, context)
    elapsed_ms = (time.perf_counter() - start) * 1000
    return replace(
        result,
        item_id=rid,
        reason=redact(one_line(result.reason)) or result.status.value.lower(),
        value=_safe_value(result.value),
        latency_ms=elapsed_ms,
    )


async def _guarded(spec: ProbeSpec | None, context: ProbeContext) -> ProbeResult:
    if spec is None:
        return errored("this item has no probe")
    problems = spec_problems(spec)
    if problems:
        return errored(f"bad probe spec: {problems[0]}")
    probe = KINDS[spec.kind]
    if probe.kind.startswith("http") and context.quota_wait() > 0:
        # The rate-limit probe just spent our API key's quota: asking now only gets 429s, so the
        # API probes wait for the window to reset (outside their timeout, it is not their fault).
        await asyncio.sleep(context.quota_wait())
    try:
        # asyncio.timeout rather than wait_for: it never swallows a cancellation (stop() relies on it)
        if probe.exclusive:
            async with context.http_gate.exclusive():
                async with asyncio.timeout(spec.timeout):
                    result = await probe.fn(spec, context)
        else:
            async with asyncio.timeout(spec.timeout):
                result = await _shared(probe, spec, context)
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return errored(f"no answer within {spec.timeout:g} s")
    except Exception as e:  # a probe must never take the sweep down
        return errored(describe_exception(e))
    if not isinstance(result, ProbeResult) or not isinstance(result.status, Status) or result.status is Status.PENDING:
        return errored(f"probe {spec.kind} returned {type(result).__name__}, not a verdict")
    return result


async def _shared(probe: ProbeKind, spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    if probe.kind.startswith(("http", "metrics")):
        async with context.http_gate.shared():
            return await probe.fn(spec, context)
    return await probe.fn(spec, context)


def _safe_value(value: Any) -> Any:
    try:
        return redact_obj(value)
    except Exception:
        return redact(repr(value))
