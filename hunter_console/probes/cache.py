"""Redis probe: the cache and rate-limiter store answers PING, with its version and memory.

Uses `redis.asyncio` with connect and socket timeouts from the spec's timeout, the URL from
the `redis_url` secret. (Named cache.py so it never shadows the `redis` package.)
"""

from __future__ import annotations

import time

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext, errored, failed, one_line, passed, register, warned


def _where(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"
    except ValueError:
        return "(unparsable URL)"


def explain_redis_error(exc: BaseException, url: str) -> str:
    text = str(exc)
    target = _where(url)
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered \
            or "temporary failure in name resolution" in lowered or "no address associated" in lowered \
            or "error -2 " in lowered or "error -3 " in lowered:
        return f"unknown host: {target}"
    if "connection refused" in lowered or "errno 111" in lowered or "error 111 " in lowered \
            or "connect call failed" in lowered:
        return f"connection refused by {target}"
    if "timeout" in lowered or "timed out" in lowered:
        return f"timed out talking to {target}"
    if "auth" in lowered or "password" in lowered or "noperm" in lowered:
        return f"authentication failed on {target}: {one_line(text)}"
    return f"cannot reach {target}: {one_line(text) or type(exc).__name__}"


@register("redis.ping", params=("max_memory_ratio",))
async def check_redis(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """Redis answers PING; WARN when its memory is close to maxmemory."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    url = context.secret("redis_url")
    if not url:
        name = context.environment.secrets.get("redis_url", "REDIS_URL")
        return errored(f"{name} is not set: no Redis to probe")
    limit = float(spec.params.get("max_memory_ratio", 0.9))
    try:
        client = aioredis.from_url(url, socket_connect_timeout=spec.timeout, socket_timeout=spec.timeout,
                                   retry_on_timeout=False, health_check_interval=0, single_connection_client=True)
    except (ValueError, RedisError) as e:
        return errored(f"bad Redis URL: {one_line(str(e))}")
    try:
        start = time.perf_counter()
        pong = await client.ping()
        rtt_ms = (time.perf_counter() - start) * 1000
        if pong is not True:
            return failed(f"PING answered {pong!r}, not PONG", str(pong))
        info = await client.info()
    except (RedisError, OSError) as e:
        return errored(explain_redis_error(e, url))
    finally:
        try:
            await client.aclose()
        except Exception:
            pass
    version = info.get("redis_version", "?")
    used, maxmem = int(info.get("used_memory", 0) or 0), int(info.get("maxmemory", 0) or 0)
    value = {"version": version, "ping_ms": round(rtt_ms, 2), "used_memory": used, "maxmemory": maxmem}
    said = f"PONG in {rtt_ms:.1f} ms from Redis {version} at {_where(url)}"
    if maxmem and used / maxmem >= limit:
        return warned(f"{said}; memory {used / maxmem:.0%} of maxmemory", value)
    return passed(said, value)
