"""Sampling: scrape the target's `/healthz/metrics` on an interval and store each scrape, reduced
to what the windows need, in the samples store.

`MetricsSampler.sample_once()` never raises: a scrape that fails (refused, timed out, not
Prometheus text) is an outcome with the reason, not an exception, and nothing is stored for it
(a gap in the samples is what "not measured" means). `run(count, interval)` repeats it.

The reduction keeps API traffic only, by the same rule as the `metrics` probe (`/api/...` and
the legacy routes; not health checks, the scrape itself, `/_admin` or unmatched paths), and the
earliest `*_created` timestamp of the scrape as the process's epoch, so a restart is seen even
when the new process's counters have already passed the old ones.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

import httpx

from hunter_console.monitoring.store import RETENTION_S, Sample, SampleStore
from hunter_console.probes.metrics import (
    CACHE_HITS,
    CACHE_MISSES,
    LATENCY,
    METRICS_PATH,
    POOL_PREFIX,
    REQUESTS,
    STATUS_LABELS,
    Scrape,
    _is_api,
    _label,
)

DEFAULT_INTERVAL_S = 15.0
DEFAULT_TIMEOUT_S = 5.0
MIN_SPACING_S = 1.0  # the probes of one sweep scrape at once: one sample is enough (metrics.window)


def _bound_key(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def reduce_scrape(scrape: Scrape, prefix: str = "/api") -> dict[str, Any]:
    """The cumulative API counters, histogram buckets and pool gauges of one scrape, as compact
    JSON-able data. A family the scrape lacks is left out (its windows say "not instrumented")."""
    data: dict[str, Any] = {}
    if scrape.has(REQUESTS):
        total = errors = 0.0
        for labels, value in scrape.get(REQUESTS):
            if not _is_api(labels, prefix):
                continue
            total += value
            if (_label(labels, STATUS_LABELS) or "").startswith("5"):
                errors += value
        data["req"] = [total, errors]
    if scrape.has(LATENCY):
        buckets: dict[float, float] = {}
        for labels, value in scrape.get(LATENCY + "_bucket"):
            if _is_api(labels, prefix):
                bound = float(labels.get("le", "inf"))
                buckets[bound] = buckets.get(bound, 0.0) + value
        data["lat"] = {_bound_key(b): c for b, c in sorted(buckets.items())}
    if scrape.has(CACHE_HITS) or scrape.has(CACHE_MISSES):
        data["cache"] = [scrape.total(CACHE_HITS), scrape.total(CACHE_MISSES)]
    pool = {name.removeprefix(POOL_PREFIX): sum(v for _, v in samples)
            for name, samples in scrape.samples.items() if name.startswith(POOL_PREFIX)}
    if pool:
        data["pool"] = pool
    created = [v for name, samples in scrape.samples.items() if name.endswith("_created") for _, v in samples]
    if created:
        data["epoch"] = min(created)
    for labels, _ in scrape.get("hunter_app_info"):
        if "version" in labels:
            data["version"] = labels["version"]
    return data


@dataclass(frozen=True)
class SampleOutcome:
    """What one scrape gave: the stored sample, or why there is none."""

    ts: float
    sample: Sample | None = None
    error: str | None = None
    stored: bool = True  # False: a sample taken a moment ago was reused (MIN_SPACING_S)

    @property
    def ok(self) -> bool:
        return self.sample is not None


Fetch = Callable[[], Awaitable[str]]


class MetricsSampler:
    """Scrapes `base_url` + `path` and stores each scrape for `environment` in `store`."""

    def __init__(self, store: SampleStore, environment: str, base_url: str | None = None, *,
                 headers: Mapping[str, str] | None = None, path: str = METRICS_PATH,
                 interval: float = DEFAULT_INTERVAL_S, timeout: float = DEFAULT_TIMEOUT_S,
                 client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time,
                 min_spacing: float = 0.0) -> None:
        if base_url is None and client is None:
            raise ValueError("MetricsSampler needs a base_url or a client")
        self.store = store
        self.environment = environment
        self.base_url = base_url
        self.headers = dict(headers or {})
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.clock = clock
        self.min_spacing = min_spacing
        self._client = client
        self.last: SampleOutcome | None = None

    @classmethod
    def for_settings(cls, settings: Any, store: SampleStore, **kwargs: Any) -> "MetricsSampler":
        """A sampler on the settings' environment: its base URL, its API key (when it has one)."""
        environment = settings.environment
        key = environment.secret("api_key")
        return cls(store, settings.env_name, environment.base_url,
                   headers={"X-API-Key": key} if key else {}, **kwargs)

    async def _fetch(self) -> str:
        if self._client is not None:
            response = await self._client.get(self.path, headers=self.headers, timeout=self.timeout)
        else:
            async with httpx.AsyncClient(base_url=self.base_url or "", trust_env=False,
                                         follow_redirects=False) as client:
                response = await client.get(self.path, headers=self.headers, timeout=self.timeout)
        if response.status_code != 200:
            raise RuntimeError(f"GET {self.path} answered {response.status_code}")
        return response.text

    async def sample_once(self) -> SampleOutcome:
        """Scrape, reduce, store. Never raises (but for cancellation)."""
        from hunter_console.probes.base import describe_exception

        ts = self.clock()
        try:
            text = await asyncio.wait_for(self._fetch(), timeout=self.timeout + 1.0)
            data = reduce_scrape(Scrape.parse(text))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the outcome says what went wrong
            outcome = SampleOutcome(ts, error=describe_exception(e))
        else:
            try:
                sample = await asyncio.to_thread(self._store, ts, data)
                outcome = SampleOutcome(ts, sample=sample[0], stored=sample[1])
            except Exception as e:  # noqa: BLE001 - a locked or broken database
                outcome = SampleOutcome(ts, error=f"cannot store the sample: {describe_exception(e)}")
        self.last = outcome
        return outcome

    def _store(self, ts: float, data: dict[str, Any]) -> tuple[Sample, bool]:
        latest = self.store.latest(self.environment)
        if latest is not None and 0 <= ts - latest.ts < self.min_spacing:
            return latest, False
        return self.store.add(self.environment, ts, data), True

    async def run(self, count: int | None = None, *, interval: float | None = None,
                  on_sample: Callable[[SampleOutcome], Any] | None = None) -> list[SampleOutcome]:
        """Sample `count` times (forever when None), `interval` seconds apart, start to start.
        Old samples beyond the retention are pruned once at the start."""
        step = self.interval if interval is None else interval
        try:
            await asyncio.to_thread(self.store.prune, self.clock() - RETENTION_S)
        except Exception:  # noqa: BLE001 - pruning is housekeeping
            pass
        outcomes: list[SampleOutcome] = []
        n = 0
        while count is None or n < count:
            started = time.monotonic()
            outcome = await self.sample_once()
            n += 1
            if count is not None:
                outcomes.append(outcome)
            if on_sample is not None:
                try:
                    on_sample(outcome)
                except Exception:  # noqa: BLE001 - a subscriber's bug must not stop sampling
                    pass
            if count is not None and n >= count:
                break
            await asyncio.sleep(max(0.0, step - (time.monotonic() - started)))
        return outcomes
