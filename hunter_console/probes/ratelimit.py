"""Rate limiting: a bounded burst meets a 429 that carries Retry-After.

The burst is capped twice — at most `max_requests` requests, and at most `max_seconds` of
sending — and stops at the first 429. It sends `concurrency` requests at a time. While it runs it
holds the HTTP gate exclusively (see `base.SharedExclusive`), so no other HTTP probe of the same
sweep is caught in the 429s it provokes; the sweep starts it last.

The burst spends the quota of the console's API key: when it ends, the context records until
when (Retry-After), and the other API probes wait for that window to pass rather than reading
429s as failures. So give this probe a long interval.

A limiter that lets the whole burst through is a FAIL ("rate limiting is off"); a 429 without a
usable Retry-After is a FAIL too (clients cannot back off).
"""

from __future__ import annotations

import asyncio
import time

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext, errored, failed, passed, register
from hunter_console.probes.http import LEADS, RequestFailed, request


def _retry_after_ok(value: str | None) -> bool:
    if not value:
        return False
    value = value.strip()
    if value.isdigit():
        return True
    from email.utils import parsedate_to_datetime

    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


@register("ratelimit", params=("path", "method", "max_requests", "max_seconds", "concurrency"), exclusive=True)
async def check_ratelimit(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """A burst of at most max_requests in at most max_seconds meets 429 + Retry-After."""
    p = spec.params
    path = str(p.get("path", LEADS))
    method = str(p.get("method", "GET")).upper()
    max_requests = int(p.get("max_requests", 200))
    max_seconds = min(float(p.get("max_seconds", 3.0)), spec.timeout * 0.8)
    concurrency = max(1, int(p.get("concurrency", 10)))
    start = time.perf_counter()
    deadline = start + max_seconds
    sent = 0
    statuses: dict[int, int] = {}
    limited = None
    while sent < max_requests and time.perf_counter() < deadline and limited is None:
        batch = min(concurrency, max_requests - sent)
        remaining = max(0.05, deadline - time.perf_counter())
        try:
            answers = await asyncio.gather(*(request(context, method, path, timeout=remaining) for _ in range(batch)))
        except RequestFailed as e:
            return errored(f"after {sent} requests: {e}")
        sent += batch
        for response, _ in answers:
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 429 and limited is None:
                limited = response
    took = time.perf_counter() - start
    value = {"sent": sent, "seconds": round(took, 2), "statuses": {str(k): v for k, v in sorted(statuses.items())}}
    if limited is None:
        return failed(f"{sent} requests in {took:.1f} s and no 429: rate limiting is off", value)
    retry_after = limited.headers.get("Retry-After")
    value["retry_after"] = retry_after
    if retry_after and retry_after.strip().isdigit():
        context.spent_quota(float(retry_after))
    if not _retry_after_ok(retry_after):
        return failed(f"429 after {sent} requests but {'no' if not retry_after else 'a bad'} Retry-After header", value)
    return passed(f"429 after {sent} requests in {took:.2f} s, Retry-After {retry_after}", value)
