"""The app factory: `create_app(settings)` builds one sandbox Hunter API (a Starlette app)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from hunter_console.sandbox.cache import Cache
from hunter_console.sandbox.db import Database
from hunter_console.sandbox.faults import Faults
from hunter_console.sandbox.jsonlog import JsonLog
from hunter_console.sandbox.metrics import Metrics
from hunter_console.sandbox.pipeline import RequestPipeline, report_to_sentry
from hunter_console.sandbox.ratelimit import RateLimiter
from hunter_console.sandbox.routes import ADMIN_ROUTES, HEALTH_ROUTES, LEGACY_ROUTES, V1_ROUTES
from hunter_console.sandbox.schema import HEAD_REVISION, required_revision
from hunter_console.sandbox.settings import SandboxSettings


@dataclass
class Sandbox:
    """Everything a handler needs, on `app.state.sandbox`."""

    settings: SandboxSettings
    faults: Faults
    db: Database
    metrics: Metrics
    cache: Cache
    limiter: RateLimiter
    log: JsonLog
    redis: Any = None
    started: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.close()


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    sandbox = request.app.state.sandbox
    if exc.status_code == 404 and sandbox.faults.server_error_for_404:
        report_to_sentry(message=f"injected fault: 500_for_404 ({request.url.path})")
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def create_app(settings: SandboxSettings, *, log: JsonLog | None = None) -> Starlette:
    """One sandbox app. Its lifespan marks it started and closes the pool and Redis at shutdown."""
    required_revision(settings.version)  # an unknown version fails here, not on the first request
    db = Database(settings.database_url, uses_g20=required_revision(settings.version) == HEAD_REVISION)
    metrics = Metrics(settings.version, db.pool_size, db.pool_checked_out)
    redis = None
    if settings.redis_url:
        import redis.asyncio as aioredis

        redis = aioredis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2,
                                  health_check_interval=0)
    sandbox = Sandbox(
        settings=settings, faults=settings.faults, db=db, metrics=metrics,
        cache=Cache(metrics, settings.faults, ttl_s=settings.cache_ttl_s, redis=redis),
        limiter=RateLimiter(settings.rate_limit_per_minute, redis), log=log or JsonLog(settings.log_level),
        redis=redis,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox.started = True
        sandbox.log.debug("startup complete", version=settings.version)
        try:
            yield
        finally:
            sandbox.log.info("shutting down", version=settings.version)
            sandbox.started = False
            await sandbox.close()

    app = Starlette(
        routes=HEALTH_ROUTES + V1_ROUTES + LEGACY_ROUTES + ADMIN_ROUTES,
        exception_handlers={HTTPException: _http_error},
        middleware=[Middleware(RequestPipeline)],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
