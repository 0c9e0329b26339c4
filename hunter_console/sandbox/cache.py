"""The response cache for leads and sales summaries: Redis (`hunter:cache:<name>`) when REDIS_URL
is set, a dict in this process otherwise. Hits and misses are counted in the metrics."""

from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable

from hunter_console.sandbox.faults import Faults
from hunter_console.sandbox.metrics import Metrics

KEY_PREFIX = "hunter:cache:"


class Cache:
    def __init__(self, metrics: Metrics, faults: Faults, *, ttl_s: int = 60, redis: Any = None) -> None:
        self.metrics = metrics
        self.faults = faults
        self.ttl_s = ttl_s
        self.redis = redis
        self._local: dict[str, tuple[float, str]] = {}

    async def get_or_compute(self, name: str, compute: Callable[[], Awaitable[Any]]) -> tuple[Any, bool]:
        """The cached value of `name` (and True), or compute, store and return it (and False)."""
        key = KEY_PREFIX + name
        if not self.faults.low_cache_hit:
            raw = await self._get(key)
            if raw is not None:
                self.metrics.cache_hits.inc()
                return json.loads(raw), True
        self.metrics.cache_misses.inc()
        value = await compute()
        await self._set(key, json.dumps(value, default=str))
        return value, False

    async def forget(self, name: str) -> None:
        key = KEY_PREFIX + name
        if self.redis is not None:
            await self.redis.delete(key)
        else:
            self._local.pop(key, None)

    async def _get(self, key: str) -> str | None:
        if self.redis is not None:
            raw = await self.redis.get(key)
            return raw.decode() if isinstance(raw, bytes) else raw
        entry = self._local.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    async def _set(self, key: str, raw: str) -> None:
        if self.redis is not None:
            await self.redis.set(key, raw, ex=self.ttl_s)
        else:
            self._local[key] = (time.monotonic() + self.ttl_s, raw)
