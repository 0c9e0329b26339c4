"""HTTP probes against the Hunter API at the environment's base_url, through the context's shared
`httpx.AsyncClient` (pooled, so a sweep's probes run side by side).

The API key (the `api_key` secret) is sent as `X-API-Key` unless a spec says `auth = false`.
A connection that fails is an ERROR (we could not look); an answer that is wrong is a FAIL.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
import uuid
from typing import Any

import httpx

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext, describe_exception, errored, failed, one_line, passed, register, warned

LEADS = "/api/v1/leads"
SCAN = "/api/v1/scan"
LEGACY_LEADS = "/leads"
SALES_SUMMARY = "/api/v1/leads/{domain}/sales-summary"


class RequestFailed(Exception):
    """The request did not get an answer; the message is for the operator."""


def _expected(value: Any, default: tuple[int, ...] = (200,)) -> tuple[int, ...]:
    if value is None:
        return default
    if isinstance(value, (list, tuple, set)):
        return tuple(int(v) for v in value)
    text = str(value).strip().lower()
    if text in ("2xx", "ok"):
        return tuple(range(200, 300))
    return (int(text),)


def _said(codes: tuple[int, ...]) -> str:
    if codes == tuple(range(200, 300)):
        return "2xx"
    return "/".join(str(c) for c in codes)


async def request(context: ProbeContext, method: str, path: str, *, auth: bool = True, timeout: float | None = None,
                  headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[httpx.Response, float]:
    """(response, ms) for one request; RequestFailed when there is no answer."""
    sent = dict(context.api_headers()) if auth else {}
    sent.update(headers or {})
    start = time.perf_counter()
    try:
        response = await context.client.request(method, path, headers=sent, timeout=timeout, **kwargs)
    except httpx.HTTPError as e:
        raise RequestFailed(f"{method} {path}: {describe_exception(e)}") from None
    except OSError as e:
        raise RequestFailed(f"{method} {path}: {describe_exception(e)}") from None
    return response, (time.perf_counter() - start) * 1000


def rate_limited(method: str, path: str, response: httpx.Response) -> ProbeResult | None:
    """A 429 tells nothing about the endpoint: we could not look (ERROR), not a FAIL."""
    if response.status_code != 429:
        return None
    retry = response.headers.get("Retry-After")
    return errored(f"{method} {path} was rate limited (429{', retry after ' + retry + ' s' if retry else ''})",
                   {"status": 429})


def _body_excerpt(response: httpx.Response, limit: int = 100) -> str:
    """Why, from the body: a JSON error's problems / detail / error, else its first line."""
    try:
        text = response.text
    except Exception:
        return ""
    try:
        body = jsonlib.loads(text)
    except ValueError:
        return one_line(text, limit)
    if isinstance(body, dict):
        for key in ("problems", "detail", "error", "message", "status"):
            why = body.get(key)
            if isinstance(why, list) and why:
                return one_line("; ".join(str(w) for w in why), limit)
            if why:
                return one_line(str(why), limit)
    return one_line(text, limit)


@register("http", required=("path",), params=("method", "expect", "json", "auth", "contains", "max_ms", "headers"))
async def check_http(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """An endpoint answers with the expected status (and text, and within a latency budget)."""
    p = spec.params
    method = str(p.get("method", "GET")).upper()
    path = str(p["path"])
    expect = _expected(p.get("expect"))
    try:
        response, ms = await request(context, method, path, auth=bool(p.get("auth", True)), timeout=spec.timeout,
                                     json=p.get("json"), headers=dict(p.get("headers") or {}))
    except RequestFailed as e:
        return errored(str(e))
    value = {"status": response.status_code, "ms": round(ms, 1)}
    if response.status_code not in expect:
        if (limited := rate_limited(method, path, response)) is not None:
            return limited
        excerpt = _body_excerpt(response)
        return failed(f"{method} {path} answered {response.status_code}, expected {_said(expect)}"
                      + (f": {excerpt}" if excerpt else ""), value)
    contains = p.get("contains")
    if contains and str(contains) not in response.text:
        return failed(f"{method} {path} answered {response.status_code} without '{contains}'", value)
    max_ms = p.get("max_ms")
    if max_ms is not None and ms > float(max_ms):
        return warned(f"{method} {path} answered {response.status_code} in {ms:.0f} ms (budget {float(max_ms):g} ms)", value)
    return passed(f"{method} {path} answered {response.status_code} in {ms:.0f} ms", value)


@register("http.auth", params=("path", "method"))
async def check_auth(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """API key authentication: no key and a wrong key are refused (401/403), the real key is let in."""
    path = str(spec.params.get("path", LEADS))
    method = str(spec.params.get("method", "GET")).upper()
    refused = (401, 403)
    try:
        anonymous, _ = await request(context, method, path, auth=False, timeout=spec.timeout)
        wrong, _ = await request(context, method, path, auth=False, timeout=spec.timeout,
                                 headers={"X-API-Key": "hunter-console-wrong-" + uuid.uuid4().hex})
        key = context.secret("api_key")
        allowed = (await request(context, method, path, timeout=spec.timeout))[0] if key else None
    except RequestFailed as e:
        return errored(str(e))
    value = {"no_key": anonymous.status_code, "wrong_key": wrong.status_code,
             "with_key": allowed.status_code if allowed is not None else None}
    if anonymous.status_code not in refused:
        return failed(f"{method} {path} without an API key answered {anonymous.status_code}: authentication is off", value)
    if wrong.status_code not in refused:
        return failed(f"{method} {path} with a wrong API key answered {wrong.status_code}: any key is accepted", value)
    if allowed is None:
        name = context.environment.secrets.get("api_key", "HUNTER_API_KEY")
        return warned(f"refuses requests without a valid key ({anonymous.status_code}); {name} unset, so the"
                      " valid key was not tried", value)
    if allowed.status_code not in range(200, 300):
        if (limited := rate_limited(method, path, allowed)) is not None:
            return limited
        return failed(f"{method} {path} with the configured API key answered {allowed.status_code}", value)
    return passed(f"no key {anonymous.status_code}, wrong key {wrong.status_code}, valid key {allowed.status_code}", value)


@register("http.not_found", params=("path",))
async def check_not_found(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """An unknown route is handled gracefully: 404 with a JSON error body, not a 500 or a stack trace."""
    path = str(spec.params.get("path", "/api/v1/hunter-console-probe-" + uuid.uuid4().hex[:8]))
    try:
        response, ms = await request(context, "GET", path, timeout=spec.timeout)
    except RequestFailed as e:
        return errored(str(e))
    value = {"status": response.status_code, "content_type": response.headers.get("content-type", "")}
    if response.status_code != 404:
        return failed(f"GET {path} answered {response.status_code}, expected 404", value)
    text = response.text
    if "Traceback" in text or "File \"" in text:
        return failed(f"GET {path} answered 404 with a stack trace in the body", value)
    if "json" not in value["content_type"]:
        return warned(f"GET {path} answered 404 but not as JSON ({value['content_type'] or 'no content type'})", value)
    try:
        jsonlib.loads(text)
    except ValueError:
        return failed(f"GET {path} answered 404 with a body that is not valid JSON", value)
    return passed(f"unknown route answers a JSON 404 in {ms:.0f} ms", value)


@register("http.versioning", params=("v1", "legacy", "paths", "expect"))
async def check_versioning(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """Both the versioned (/api/v1/...) and the legacy unversioned routes answer."""
    p = spec.params
    paths = list(p.get("paths") or [p.get("v1", LEADS), p.get("legacy", LEGACY_LEADS)])
    expect = _expected(p.get("expect"), tuple(range(200, 300)))
    try:
        answers = await asyncio.gather(*(request(context, "GET", str(path), timeout=spec.timeout) for path in paths))
    except RequestFailed as e:
        return errored(str(e))
    value = {str(path): response.status_code for path, (response, _) in zip(paths, answers)}
    bad = [f"{path} {code}" for path, code in value.items() if code not in expect]
    if bad and all(code == 429 for path, code in value.items() if code not in expect):
        return errored(f"rate limited (429): {', '.join(bad)}", value)
    if bad:
        return failed(f"expected {_said(expect)}: {', '.join(bad)}", value)
    return passed(", ".join(f"{path} {code}" for path, code in value.items()), value)


@register("http.bulk_scan", params=("count", "within_s", "path", "domain"))
async def check_bulk_scan(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """`count` scans (POST /api/v1/scan, one domain each, side by side) all succeed within `within_s`."""
    p = spec.params
    count = int(p.get("count", 10))
    within = float(p.get("within_s", spec.timeout))
    path = str(p.get("path", SCAN))
    pattern = str(p.get("domain", "bulk-{i}.example.com"))
    start = time.perf_counter()
    try:
        answers = await asyncio.gather(*(
            request(context, "POST", path, timeout=spec.timeout, json={"domain": pattern.format(i=i)})
            for i in range(count)
        ))
    except RequestFailed as e:
        return errored(str(e))
    took = time.perf_counter() - start
    codes = [response.status_code for response, _ in answers]
    ok = sum(1 for c in codes if 200 <= c < 300)
    value = {"ok": ok, "count": count, "seconds": round(took, 3), "statuses": sorted(set(codes))}
    if ok < count and all(c == 429 or 200 <= c < 300 for c in codes):
        return errored(f"{count - ok} of {count} scans were rate limited (429)", value)
    if ok < count:
        others = sorted({c for c in codes if not 200 <= c < 300})
        return failed(f"{count - ok} of {count} scans failed ({', '.join(map(str, others))})", value)
    if took > within:
        return failed(f"{count} scans took {took:.2f} s, budget {within:g} s", value)
    return passed(f"{count} scans in {took:.2f} s (budget {within:g} s)", value)


@register("http.cache", params=("path", "domain", "header", "metrics_path"))
async def check_cache(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """The Redis cache layer works: the same request twice, the second is served from the cache.

    Evidence, in order: a cache header on the repeat (X-Cache: HIT); else the cache hit counter in
    /healthz/metrics going up across the repeat. A MISS is asked again (twice at most), since a scan
    of the same domain running alongside evicts the entry.
    """
    from hunter_console.probes.metrics import CACHE_HITS, METRICS_PATH, Scrape

    p = spec.params
    domain = str(p.get("domain", "cache-probe.example.com"))  # a domain no other probe scans
    path = str(p.get("path", SALES_SUMMARY)).format(domain=domain)
    header = str(p.get("header", "X-Cache"))
    metrics_path = str(p.get("metrics_path", METRICS_PATH))

    async def hits() -> float | None:
        response, _ = await request(context, "GET", metrics_path, timeout=spec.timeout)
        if response.status_code != 200:
            return None
        return Scrape.parse(response.text).total(CACHE_HITS)

    try:
        before = await hits()
        first, _ = await request(context, "GET", path, timeout=spec.timeout)
        # A write elsewhere (a scan of the same domain) may evict the entry between the two reads,
        # so a miss is asked again, twice at most: a cache that works hits on one of them.
        for _attempt in range(3):
            second, ms = await request(context, "GET", path, timeout=spec.timeout)
            if (second.headers.get(header) or "").upper() != "MISS" or second.status_code != 200:
                break
        after = await hits() if not second.headers.get(header) else None
    except RequestFailed as e:
        return errored(str(e))
    value = {"first": first.status_code, "second": second.status_code, header: second.headers.get(header)}
    if second.status_code == 429 or first.status_code == 429:
        return rate_limited("GET", path, second if second.status_code == 429 else first)
    if first.status_code != 200 or second.status_code != 200:
        return failed(f"GET {path} answered {first.status_code} then {second.status_code}", value)
    marker = (second.headers.get(header) or "").upper()
    if marker:
        if marker.startswith("HIT"):
            return passed(f"repeat of GET {path} was a cache hit ({header}: {marker}, {ms:.0f} ms)", value)
        return failed(f"repeat of GET {path} was not cached ({header}: {marker})", value)
    if before is None or after is None:
        return errored(f"no {header} header and no metrics at {metrics_path} to tell a cache hit")
    value["hits_delta"] = after - before
    if after > before:
        return passed(f"repeat of GET {path} counted as a cache hit ({ms:.0f} ms)", value)
    return failed(f"repeat of GET {path} was not a cache hit (hit counter did not move)", value)
