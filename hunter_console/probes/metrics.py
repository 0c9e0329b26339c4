"""Metrics probes: the API's Prometheus scrape (`/healthz/metrics`) judged against the
checklist's thresholds.

    metric = "error_rate"      5xx responses / all responses to API routes                      < max (0.01)
    metric = "p95_ms"          P95 request latency of API routes from the histogram buckets     < max (500)
    metric = "cache_hit_rate"  cache hits / (hits + misses)                                       > min (0.5)
    metric = "pool"            DB pool gauges: nobody waiting, in use / size <= max (when given);
                               overflow connections in use under load are normal, not a WARN

API routes are the `route` label's /api/... templates and the legacy unversioned ones; the
health checks, the metrics scrape, /_admin and unmatched paths are not API traffic.
Parsed with `prometheus_client.parser.text_string_to_metric_families`. Counters are cumulative
since the API process started, so the first three are judged over its lifetime; a scrape with
nothing to judge (no API request, no cache lookup) is a WARN, not a PASS. `metrics.window`
(window = "1h" / "24h", stable = true for "stays within threshold in every 5-min slice") stores
each scrape it takes as a sample in the audit database (hunter_console.monitoring) and judges the
deltas over the window: PASS / FAIL once samples cover >= 90% of it, WARN "measuring: 12 of 60
min" before (FAIL early when what is measured, or what the API process has seen since it started,
already breaks the threshold). Without an audit
database it judges the current scrape and WARNs "window not measured".

Metric names follow the sandbox Hunter API and can be overridden per spec (`requests_metric`,
`latency_metric`, `cache_hits_metric`, `cache_misses_metric`, `pool_metric_prefix`).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult, Status
from hunter_console.probes.base import ProbeContext, describe_exception, errored, failed, passed, register, warned

METRICS_PATH = "/healthz/metrics"
REQUESTS = "hunter_http_requests"  # counter, labels method/path/status
LATENCY = "hunter_http_request_duration_seconds"  # histogram, labels method/path
CACHE_HITS = "hunter_cache_hits"  # counter
CACHE_MISSES = "hunter_cache_misses"  # counter
POOL_PREFIX = "hunter_db_pool_"  # gauges: size, checked_out (in use), overflow, waiting

DEFAULTS = {"error_rate": ("max", 0.01), "p95_ms": ("max", 500.0), "cache_hit_rate": ("min", 0.5), "pool": ("max", None)}
METRIC_ALIASES = {"p95": "p95_ms", "latency_p95_ms": "p95_ms", "hit_rate": "cache_hit_rate", "cache": "cache_hit_rate",
                  "errors": "error_rate", "db_pool": "pool"}
PATH_LABELS = ("path", "route", "handler", "endpoint")
STATUS_LABELS = ("status", "status_code", "code")

PARAMS = ("metric", "max", "min", "threshold", "path", "api_prefix", "min_requests", "requests_metric",
          "latency_metric", "cache_hits_metric", "cache_misses_metric", "pool_metric_prefix", "quantile")


@dataclass
class Scrape:
    """The samples of one scrape: name -> list of (labels, value)."""

    samples: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)
    families: set[str] = field(default_factory=set)  # declared, even with no sample yet

    @classmethod
    def parse(cls, text: str) -> "Scrape":
        from prometheus_client.parser import text_string_to_metric_families

        scrape = cls()
        for family in text_string_to_metric_families(text):
            scrape.families.add(family.name)
            for sample in family.samples:
                scrape.samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
        return scrape

    def get(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Samples of `name`; for a counter `x` also accepts the exposition name `x_total`."""
        if name in self.samples:
            return self.samples[name]
        for candidate in (name + "_total", name.removesuffix("_total")):
            if candidate in self.samples:
                return self.samples[candidate]
        return []

    def has(self, name: str) -> bool:
        """Declared in the scrape (a labelled metric with no sample yet counts)."""
        return bool(self.get(name)) or name in self.families or name.removesuffix("_total") in self.families

    def total(self, name: str) -> float:
        return sum(v for _, v in self.get(name))


def _label(labels: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if name in labels:
            return labels[name]
    return None


NOT_API = ("/healthz", "/_admin", "/metrics", "<unmatched>")


def _is_api(labels: dict[str, str], prefix: str) -> bool:
    """API traffic: the versioned routes (under `prefix`) and the legacy unversioned ones; not the
    health checks, the metrics scrape, the admin endpoint or unmatched paths (404s of scanners)."""
    path = _label(labels, PATH_LABELS)
    if path is None:
        return True
    if path.startswith(prefix):
        return True
    return not path.startswith(NOT_API)


def error_rate(scrape: Scrape, name: str = REQUESTS, prefix: str = "/api") -> tuple[float, float, float] | None:
    """(rate, 5xx, total) over API routes, or None when the counter is absent."""
    if not scrape.has(name):
        return None
    samples = scrape.get(name)
    total = errors = 0.0
    for labels, value in samples:
        if not _is_api(labels, prefix):
            continue
        total += value
        status = _label(labels, STATUS_LABELS) or ""
        if status.startswith("5"):
            errors += value
    return (errors / total if total else 0.0), errors, total


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over cumulative (upper bound, count) buckets: linear
    interpolation inside the bucket the rank falls in; in the +Inf bucket, the highest finite
    bound (the answer is then "at least this"). NaN with no observations."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return math.nan
    total = buckets[-1][1]
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def latency_quantile(scrape: Scrape, q: float = 0.95, name: str = LATENCY,
                     prefix: str = "/api") -> tuple[float, float, bool] | None:
    """(quantile in ms, observations, beyond the last finite bucket) over API routes, or None."""
    if not scrape.has(name):
        return None
    samples = scrape.get(name + "_bucket")
    merged: dict[float, float] = {}
    for labels, value in samples:
        if not _is_api(labels, prefix):
            continue
        bound = float(labels.get("le", "inf"))
        merged[bound] = merged.get(bound, 0.0) + value
    buckets = sorted(merged.items())
    if not buckets:
        return (math.nan, 0.0, False)
    count = buckets[-1][1]
    value = histogram_quantile(q, buckets)
    finite = [b for b, _ in buckets if not math.isinf(b)]
    beyond = bool(finite) and count > 0 and value >= finite[-1] and _count_at(buckets, finite[-1]) < q * count
    return value * 1000, count, beyond


def _count_at(buckets: list[tuple[float, float]], bound: float) -> float:
    for b, c in buckets:
        if b == bound:
            return c
    return 0.0


def _threshold(params: dict[str, Any], metric: str) -> tuple[str, float | None]:
    direction, default = DEFAULTS[metric]
    if direction in params:
        return direction, float(params[direction])
    if "threshold" in params:
        return direction, float(params["threshold"])
    return direction, default


async def fetch_scrape(context: ProbeContext, spec: ProbeSpec) -> Scrape | ProbeResult:
    path = str(spec.params.get("path", METRICS_PATH))
    try:
        response = await context.client.get(path, headers=context.api_headers(), timeout=spec.timeout)
    except Exception as e:  # httpx errors, in the operator's words
        return errored(f"GET {path}: {describe_exception(e)}")
    if response.status_code != 200:
        return failed(f"GET {path} answered {response.status_code}", response.status_code)
    try:
        return Scrape.parse(response.text)
    except Exception as e:
        return failed(f"GET {path} is not Prometheus text: {describe_exception(e)}")


def judge(scrape: Scrape, params: dict[str, Any]) -> ProbeResult:
    metric = str(params.get("metric", "error_rate"))
    metric = METRIC_ALIASES.get(metric, metric)
    if metric not in DEFAULTS:
        return errored(f"unknown metric '{metric}' (known: {', '.join(DEFAULTS)})")
    prefix = str(params.get("api_prefix", "/api"))
    min_requests = float(params.get("min_requests", 1))
    if metric == "error_rate":
        name = str(params.get("requests_metric", REQUESTS))
        got = error_rate(scrape, name, prefix)
        if got is None:
            return failed(f"no {name} counter in the scrape: error rate cannot be measured")
        rate, errors, total = got
        _, limit = _threshold(params, metric)
        value = {"rate": round(rate, 5), "errors": int(errors), "requests": int(total)}
        if total < min_requests:
            return warned(f"no API requests to judge yet ({int(total)})", value)
        said = f"error rate {rate:.2%} ({int(errors)} of {int(total)} API requests were 5xx)"
        return passed(f"{said} < {limit:.0%}", value) if rate < limit else failed(f"{said}, limit {limit:.0%}", value)
    if metric == "p95_ms":
        name = str(params.get("latency_metric", LATENCY))
        q = float(params.get("quantile", 0.95))
        got = latency_quantile(scrape, q, name, prefix)
        if got is None:
            return failed(f"no {name} histogram in the scrape: latency cannot be measured")
        ms, count, beyond = got
        _, limit = _threshold(params, metric)
        label = f"P{q * 100:g}"
        value = {"p95_ms": None if math.isnan(ms) else round(ms, 1), "requests": int(count)}
        if count < min_requests or math.isnan(ms):
            return warned(f"no API requests to judge yet ({int(count)})", value)
        said = f"{label} latency {'>= ' if beyond else ''}{ms:.0f} ms over {int(count)} API requests"
        return passed(f"{said} < {limit:g} ms", value) if ms < limit else failed(f"{said}, limit {limit:g} ms", value)
    if metric == "cache_hit_rate":
        hits_name = str(params.get("cache_hits_metric", CACHE_HITS))
        misses_name = str(params.get("cache_misses_metric", CACHE_MISSES))
        if not scrape.has(hits_name) and not scrape.has(misses_name):
            return failed(f"no {hits_name}/{misses_name} counters in the scrape: cache not instrumented")
        hits, misses = scrape.total(hits_name), scrape.total(misses_name)
        lookups = hits + misses
        _, limit = _threshold(params, metric)
        rate = hits / lookups if lookups else 0.0
        value = {"rate": round(rate, 4), "hits": int(hits), "misses": int(misses)}
        if lookups < min_requests:
            return warned("no cache lookups to judge yet", value)
        said = f"cache hit rate {rate:.0%} ({int(hits)} hits, {int(misses)} misses)"
        return passed(f"{said} > {limit:.0%}", value) if rate > limit else failed(f"{said}, needs > {limit:.0%}", value)
    # pool
    prefix_name = str(params.get("pool_metric_prefix", POOL_PREFIX))
    gauges = {name.removeprefix(prefix_name): sum(v for _, v in samples)
              for name, samples in scrape.samples.items() if name.startswith(prefix_name)}
    if not gauges:
        return failed(f"no {prefix_name}* gauges in the scrape: pool not instrumented")
    size = gauges.get("size")
    in_use = gauges.get("checked_out", gauges.get("in_use"))
    waiting = gauges.get("waiting", 0.0)
    value = {k: (int(v) if float(v).is_integer() else v) for k, v in sorted(gauges.items())}
    if size is None or in_use is None:
        return failed(f"pool gauges incomplete ({', '.join(sorted(gauges))}): need size and checked_out", value)
    _, limit = _threshold(params, metric)
    said = f"{int(in_use)} of {int(size)} pooled connections in use, {int(waiting)} waiting"
    if waiting > 0:
        return failed(f"pool exhausted: {said}", value)
    if limit is not None and size and in_use / size > limit:
        return failed(f"pool {in_use / size:.0%} used, limit {limit:.0%}: {said}", value)
    if size and in_use > size:
        return passed(f"pool healthy, overflow in use: {said}", value)
    return passed(f"pool healthy: {said}", value)


@register("metrics", params=PARAMS)
async def check_metrics(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """One metric from the current scrape against its threshold."""
    scrape = await fetch_scrape(context, spec)
    if isinstance(scrape, ProbeResult):
        return scrape
    return judge(scrape, dict(spec.params))


@register("metrics.window", params=PARAMS + ("window", "stable", "slice_min", "max_gap"))
async def check_metrics_window(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """The same metric judged over a window (1h / 24h) of samples stored in the audit database."""
    from hunter_console.monitoring import windows

    params = {k: v for k, v in spec.params.items()}
    try:
        span = windows.parse_window(params.get("window", "1h"))
    except ValueError as e:
        return errored(str(e))
    metric = METRIC_ALIASES.get(str(params.get("metric", "error_rate")), str(params.get("metric", "error_rate")))
    if metric not in DEFAULTS:
        return errored(f"unknown metric '{metric}' (known: {', '.join(DEFAULTS)})")
    scrape = await fetch_scrape(context, spec)
    if isinstance(scrape, ProbeResult):
        return scrape
    path = getattr(context.audit, "path", None)
    if path is None:  # no audit database, so nowhere to keep samples: the current scrape, WARN
        now = judge(scrape, {k: v for k, v in params.items() if k in PARAMS})
        if now.status in (Status.FAIL, Status.ERROR):
            return now
        return warned(f"window {params.get('window', '1h')} not yet measured; now: {now.reason} "
                      f"(no audit database to keep samples in)", now.value)
    try:
        verdict = await asyncio.to_thread(_window_verdict, path, context.environment.name, scrape, span, metric, params)
    except Exception as e:  # a locked or broken database: we could not observe the window
        return errored(f"samples store: {describe_exception(e)}")
    value = verdict.as_dict()
    if verdict.state == windows.MEASURING:
        # Until the window is measured, what the API process has seen since it started still
        # counts: a release answering 500s now fails now, not in an hour.
        lifetime = judge(scrape, {k: v for k, v in params.items() if k in PARAMS})
        if lifetime.status is Status.FAIL:
            return failed(f"{lifetime.reason} (since the API started; {verdict.reason.split(';')[0]})",
                          {**value, "now": lifetime.value})
    if verdict.state == windows.PASS:
        return passed(verdict.reason, value)
    if verdict.state == windows.FAIL:
        return failed(verdict.reason, value)
    return warned(verdict.reason, value)


def _window_verdict(path: Any, environment: str, scrape: Scrape, span: float, metric: str,
                    params: dict[str, Any]) -> Any:
    """Store this scrape as a sample (unless one was taken a moment ago), then judge the window."""
    import time

    from hunter_console.monitoring.sampler import MIN_SPACING_S, reduce_scrape
    from hunter_console.monitoring.store import SampleStore
    from hunter_console.monitoring.windows import evaluate, load_window

    now = time.time()
    with SampleStore(path) as store:
        latest = store.latest(environment)
        if latest is None or not 0 <= now - latest.ts < MIN_SPACING_S:
            latest = store.add(environment, now, reduce_scrape(scrape, str(params.get("api_prefix", "/api"))))
        # The window ends at the sample just taken (or the one taken under a second ago by
        # another probe of this sweep, which stands for this scrape).
        max_gap = float(params["max_gap"]) if "max_gap" in params else None
        window = load_window(store, environment, span, latest.ts, max_gap=max_gap)
    return evaluate(window, metric, params)
