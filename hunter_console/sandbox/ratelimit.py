"""Fixed-window rate limiting per API key (or client address): N requests a minute.

In Redis when REDIS_URL is set (INCR + EXPIRE on `hunter:ratelimit:<who>:<window>`, shared by
every replica: the distributed limiter), in this process otherwise. The key is hashed, never stored.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

KEY_PREFIX = "hunter:ratelimit:"
WINDOW_S = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    limit: int
    retry_after_s: int  # seconds until the window resets


class RateLimiter:
    def __init__(self, limit_per_minute: int, redis: Any = None) -> None:
        self.limit = limit_per_minute
        self.redis = redis
        self._counts: dict[str, int] = {}

    @staticmethod
    def who(api_key: str | None, client: str | None) -> str:
        if api_key:
            return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
        return f"ip-{client or 'unknown'}"

    async def hit(self, who: str) -> Verdict:
        now = time.time()
        window = int(now // WINDOW_S)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_S - now))
        key = f"{KEY_PREFIX}{who}:{window}"
        if self.redis is not None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, WINDOW_S + 1)
                count, _ = await pipe.execute()
        else:
            self._counts = {k: v for k, v in self._counts.items() if k.endswith(f":{window}")} \
                if len(self._counts) > 10_000 else self._counts
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        return Verdict(count <= self.limit, int(count), self.limit, retry_after)
