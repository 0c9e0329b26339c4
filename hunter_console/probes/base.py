"""What every probe family shares: the context a probe runs in, the result helpers, and the
decorator that puts a probe function in the registry under its kind.

A probe function is `async def (spec: ProbeSpec, context: ProbeContext) -> ProbeResult`. It
returns a result built with `passed` / `warned` / `failed` / `errored` (the item id, the
latency, the redaction and the one-line rule are filled in by `registry.run_probe`), and it
should not raise: anything it does raise, and any overrun of `spec.timeout`, is turned into an
ERROR by the runner all the same.

Meaning of the statuses, the same for every family:
  PASS   the probe observed what the checklist asks for;
  WARN   it observed nothing wrong but cannot vouch for it yet (no traffic to judge, a window not
         measured yet); the headless `probe` command counts WARN as passing;
  FAIL   it observed the thing, and the thing is wrong (schema behind head, auth off, 500s);
  ERROR  it could not observe (unreachable, timed out, refused, no secret to connect with).
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping

import httpx

from hunter_console.checklist.model import ProbeSpec
from hunter_console.config import SECRET_ROLES, Environment, Settings
from hunter_console.events import ProbeResult, Status

ProbeFn = Callable[[ProbeSpec, "ProbeContext"], Awaitable[ProbeResult]]

USER_AGENT = "hunter-console-probe/1"


# -- results ---------------------------------------------------------------------------------
def _result(status: Status, reason: str, value: Any = None) -> ProbeResult:
    return ProbeResult(item_id="", status=status, reason=reason, value=value)


def passed(reason: str, value: Any = None) -> ProbeResult:
    return _result(Status.PASS, reason, value)


def warned(reason: str, value: Any = None) -> ProbeResult:
    return _result(Status.WARN, reason, value)


def failed(reason: str, value: Any = None) -> ProbeResult:
    return _result(Status.FAIL, reason, value)


def errored(reason: str, value: Any = None) -> ProbeResult:
    return _result(Status.ERROR, reason, value)


def one_line(text: str, limit: int = 240) -> str:
    """The first non-empty line of a message, whitespace squeezed, cut at `limit` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = " ".join(lines[0].split()) if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """An exception in the operator's words, one line: what went wrong, not a traceback."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timed out"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the response"
    if isinstance(exc, httpx.ConnectError):
        text = " ".join(_chain(exc)) or type(exc).__name__
        if "Name or service not known" in text or "nodename nor servname" in text or "No address associated" in text \
                or "Temporary failure in name resolution" in text:
            return f"unknown host ({one_line(text)})"
        if "Connection refused" in text or "Errno 111" in text:
            return "connection refused"
        return f"cannot connect: {one_line(_chain(exc)[-1])}"
    text = one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _chain(exc: BaseException) -> list[str]:
    """The messages of an exception and its causes (httpx says "All connection attempts failed"
    and keeps the OSError that says why underneath)."""
    seen, out = set(), []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc)
        if isinstance(exc, OSError) and exc.errno == 111:
            text = "Connection refused"
        if text:
            out.append(text)
        exc = exc.__cause__ or exc.__context__
    return out


# -- registry of kinds -----------------------------------------------------------------------
@dataclass(frozen=True)
class ProbeKind:
    """One probe kind: the function, and the parameters a spec of this kind may carry."""

    kind: str
    fn: ProbeFn
    params: frozenset[str]  # every parameter it accepts
    required: frozenset[str]  # the ones a spec must give
    module: str
    exclusive: bool = False  # runs alone: other HTTP probes wait (the rate-limit burst)
    doc: str = ""


KINDS: dict[str, ProbeKind] = {}


def register(kind: str, *, params: tuple[str, ...] = (), required: tuple[str, ...] = (),
             exclusive: bool = False) -> Callable[[ProbeFn], ProbeFn]:
    """Register `fn` as the probe for `kind`, accepting `params` (and needing `required`)."""

    def decorate(fn: ProbeFn) -> ProbeFn:
        if kind in KINDS:
            raise ValueError(f"probe kind '{kind}' registered twice")
        KINDS[kind] = ProbeKind(kind, fn, frozenset(params) | frozenset(required), frozenset(required),
                                fn.__module__, exclusive, (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
        return fn

    return decorate


# -- the context -----------------------------------------------------------------------------
class SharedExclusive:
    """Many shared holders at once, or one exclusive holder: the rate-limit burst takes it
    exclusively so that no other HTTP probe is caught in the 429s it provokes."""

    def __init__(self) -> None:
        self._cond = asyncio.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting_exclusive = 0

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._exclusive and not self._waiting_exclusive)
            self._shared += 1
        try:
            yield
        finally:
            async with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._cond:
            self._waiting_exclusive += 1
            try:
                await self._cond.wait_for(lambda: not self._exclusive and self._shared == 0)
            finally:
                self._waiting_exclusive -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._cond:
                self._exclusive = False
                self._cond.notify_all()


@dataclass
class ProbeContext:
    """Everything a probe may use: where the API is, its secrets, one shared HTTP client, the
    audit log (backup freshness reads it), and the release being shipped.

    Build it with `ProbeContext.open(settings, audit=...)`, an async context manager that owns
    the HTTP client and closes it on exit.
    """

    environment: Environment
    client: httpx.AsyncClient
    secrets: Mapping[str, str | None] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    settings: Settings | None = None
    audit: Any = None  # hunter_console.audit.AuditLog, or None when there is none
    release: str = ""
    http_gate: SharedExclusive = field(default_factory=SharedExclusive)
    rate_limited_until: float = 0.0  # time.monotonic() until which our API key's quota is spent

    def spent_quota(self, retry_after_s: float) -> None:
        """The rate-limit probe spent this key's quota: API probes hold off for retry_after_s."""
        self.rate_limited_until = max(self.rate_limited_until, time.monotonic() + max(0.0, retry_after_s))

    def quota_wait(self) -> float:
        """Seconds until API probes can expect an answer that is not a 429 (0 when now)."""
        return max(0.0, self.rate_limited_until - time.monotonic())

    @property
    def base_url(self) -> str:
        return self.environment.base_url

    def secret(self, role: str) -> str | None:
        return self.secrets.get(role) or None

    def api_headers(self) -> dict[str, str]:
        key = self.secret("api_key")
        return {"X-API-Key": key} if key else {}

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings | None = None,
        *,
        environment: Environment | None = None,
        audit: Any = None,
        environ: Mapping[str, str] | None = None,
        release: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> AsyncIterator["ProbeContext"]:
        if environment is None:
            if settings is None:
                raise ValueError("ProbeContext.open needs settings or an environment")
            environment = settings.environment
        # The service's environment as its env file declares it, over the console's own.
        environ = {**(os.environ if environ is None else environ), **environment.service_env()}
        # Environment.secret registers every value with redact, so no probe can leak one.
        secrets = {role: environment.secret(role, environ) for role in SECRET_ROLES}
        owned = client is None
        if client is None:
            client = new_client(environment.base_url)
        try:
            yield cls(environment=environment, client=client, secrets=secrets, environ=environ, settings=settings,
                      audit=audit, release=release or (settings.release if settings else ""))
        finally:
            if owned:
                await client.aclose()


def new_client(base_url: str) -> httpx.AsyncClient:
    """The HTTP client probes share: pooled, no redirects followed, no proxy from the environment
    (the bastion talks to the API directly), a default timeout the per-probe timeout undercuts."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )
