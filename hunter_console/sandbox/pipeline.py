"""What every request goes through, outermost first: timing, metrics and the JSON access log;
then, for API routes only, the fault knobs (latency, error_rate), API-key auth and the rate limit.
An exception in a handler becomes a JSON 500 (and goes to Sentry when it is configured)."""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from hunter_console.sandbox.metrics import UNMATCHED_ROUTE
from hunter_console.sandbox.routes import API_TEMPLATES, LEGACY_TEMPLATES, one_line


def route_template(app: Any, scope: Scope) -> str:
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match in (Match.FULL, Match.PARTIAL):
            return route.path
    return UNMATCHED_ROUTE


def report_to_sentry(exc: BaseException | None = None, message: str | None = None) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover
        return
    if exc is not None:
        sentry_sdk.capture_exception(exc)
    elif message:
        sentry_sdk.capture_message(message, level="error")


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


class RequestPipeline:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        starlette_app = scope["app"]
        sandbox = starlette_app.state.sandbox
        started = time.perf_counter()
        route = route_template(starlette_app, scope)
        legacy_gone = route in LEGACY_TEMPLATES and sandbox.faults.legacy_gone
        if legacy_gone:
            route = UNMATCHED_ROUTE
        state = {"status": 500, "sent": False}

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["sent"] = True
            await send(message)

        try:
            if legacy_gone:
                if sandbox.faults.server_error_for_404:
                    await _send_json(recording_send, 500, {"detail": "Internal Server Error"})
                else:
                    await _send_json(recording_send, 404, {"detail": "Not Found"})
                return
            if route in API_TEMPLATES and not await self._guard(sandbox, scope, recording_send):
                return
            await self.app(scope, receive, recording_send)
        except Exception as exc:  # noqa: BLE001 - answered as a JSON 500, logged, sent to Sentry
            report_to_sentry(exc)
            sandbox.log.error("unhandled error", route=route, error=f"{type(exc).__name__}: {one_line(exc)}")
            if not state["sent"]:
                await _send_json(recording_send, 500, {"detail": "Internal Server Error"})
        finally:
            seconds = time.perf_counter() - started
            method = scope.get("method", "GET")
            sandbox.metrics.observe(route, method, state["status"], seconds)
            status = state["status"]
            level = "ERROR" if status >= 500 else "INFO"
            if route.startswith("/healthz/"):  # probes poll these: quiet unless they fail
                level = "WARNING" if status >= 500 else "DEBUG"
            sandbox.log.emit(level, "request", route=route, method=method,
                             status=status, duration_ms=round(seconds * 1000, 2))

    async def _guard(self, sandbox: Any, scope: Scope, send: Send) -> bool:
        """Faults, auth and rate limit for an API request; False when it has been answered here."""
        faults = sandbox.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-api-key")
        expected = sandbox.settings.api_key
        if expected and not faults.auth_off:
            if not given or not hmac.compare_digest(given.encode(), expected.encode()):
                detail = "API key missing (X-API-Key)" if not given else "API key not valid"
                await _send_json(send, 401, {"detail": detail})
                return False
        if not faults.rate_limit_off:
            client = (scope.get("client") or ("unknown", 0))[0]
            try:
                verdict = await sandbox.limiter.hit(sandbox.limiter.who(given, client))
            except Exception as exc:  # noqa: BLE001 - Redis down: let the request through, say so
                sandbox.log.warning("rate limiter unavailable, request allowed", error=one_line(exc))
            else:
                if not verdict.allowed:
                    sandbox.metrics.rate_limited.inc()
                    await _send_json(send, 429, {"detail": f"rate limit exceeded: {verdict.limit} requests a minute",
                                                 "retry_after_s": verdict.retry_after_s},
                                     {"Retry-After": str(verdict.retry_after_s)})
                    return False
        if faults.error_rate and random.random() < faults.error_rate:
            report_to_sentry(message="injected fault: error_rate")
            await _send_json(send, 500, {"detail": "Internal Server Error"})
            return False
        return True
