"""Redis against the real local server; env and Sentry DSN checks (no network to sentry.io)."""

from __future__ import annotations

import time

from hunter_console.config import DEFAULT_SECRETS, Environment
from hunter_console.events import Status
from hunter_console.probes import run_probe

from probe_helpers import REDIS_URL, SENTRY_DSN, environ_for, item


async def run(open_context, environ, kind, environment=None, timeout=5.0, **params):
    async with open_context(environ, environment=environment) as ctx:
        return await run_probe(item("x." + kind, kind, timeout=timeout, **params), ctx)


async def test_redis_pong(open_context):
    result = await run(open_context, environ_for(), "redis.ping")
    assert result.status is Status.PASS and result.reason.startswith("PONG in "), result
    assert result.value["version"]


async def test_redis_refused_unknown_host_and_blackhole(open_context, closed_port, blackhole):
    refused = await run(open_context, environ_for(redis_url=f"redis://127.0.0.1:{closed_port}/0"), "redis.ping")
    assert refused.status is Status.ERROR and refused.reason == f"connection refused by 127.0.0.1:{closed_port}/0"
    unknown = await run(open_context, environ_for(redis_url="redis://nonexistent.invalid:6379/0"), "redis.ping")
    assert unknown.status is Status.ERROR and unknown.reason.startswith("unknown host: nonexistent.invalid"), unknown
    start = time.perf_counter()
    hole = await run(open_context, environ_for(redis_url=f"redis://127.0.0.1:{blackhole}/0"), "redis.ping", timeout=0.5)
    assert hole.status is Status.ERROR and time.perf_counter() - start < 1.5, hole


async def test_redis_password_never_shown(open_context, closed_port):
    result = await run(open_context, environ_for(redis_url=f"redis://:hunter2pass@127.0.0.1:{closed_port}/0"),
                       "redis.ping")
    assert result.status is Status.ERROR and "hunter2pass" not in result.reason


async def test_env_rules(open_context):
    environ = {"LOG_LEVEL": "INFO", "ENVIRONMENT": "staging", "DATABASE_URL": "postgresql://u:pw12345@db:5432/hunter",
               "REDIS_URL": "redis://cache:6379/0", "PARTNER_CENTER_ENABLED": "false"}
    ok = await run(open_context, environ, "env", var="LOG_LEVEL", rule="equals", expected="INFO")
    assert ok.status is Status.PASS and ok.value == "INFO"
    wrong = await run(open_context, environ, "env", var="ENVIRONMENT", rule="equals", expected="production")
    assert wrong.status is Status.FAIL and "'staging'" in wrong.reason
    unset = await run(open_context, environ, "env", var="SENTRY_DSN", rule="dsn")
    assert unset.status is Status.FAIL and unset.reason == "SENTRY_DSN is not set" and unset.value == "(unset)"
    dsn = await run(open_context, environ, "env", var="DATABASE_URL", rule="dsn")
    assert dsn.status is Status.PASS and dsn.value == f"*** ({len(environ['DATABASE_URL'])} chars)" and "pw12345" not in dsn.reason
    url = await run(open_context, environ, "env", var="REDIS_URL", rule="url")
    assert url.status is Status.PASS and url.value.startswith("***")
    flag = await run(open_context, environ, "env", var="PARTNER_CENTER_ENABLED", rule="equals", expected="false")
    assert flag.status is Status.PASS


async def test_env_bad_dsn_and_renamed_secret(open_context):
    environment = Environment(name="staging", secrets={**DEFAULT_SECRETS, "database_url": "STAGING_DATABASE_URL"})
    bad = await run(open_context, {"STAGING_DATABASE_URL": "postgresql://u:pw@db:5432/"}, "env",
                    environment=environment, var="DATABASE_URL", rule="dsn")
    assert bad.status is Status.FAIL and bad.reason == "STAGING_DATABASE_URL is not a valid DSN (no database name)"
    assert "pw@" not in bad.reason and bad.value.startswith("***")


async def test_sentry_dsn(open_context):
    good = await run(open_context, environ_for(), "sentry")
    assert good.status is Status.PASS and "project 4504 on o1.ingest.sentry.io" in good.reason
    assert "0123456789abcdef" not in good.reason + str(good.value)
    for dsn, words in [("not a url", "scheme"), ("https://o1.ingest.sentry.io/4504", "no public key"),
                       ("https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/", "project id")]:
        bad = await run(open_context, environ_for(sentry_dsn=dsn), "sentry")
        assert bad.status is Status.FAIL and words in bad.reason, (dsn, bad)
    unset = await run(open_context, environ_for(sentry_dsn=None), "sentry")
    assert unset.status is Status.FAIL and unset.reason.startswith("SENTRY_DSN is not set")
    assert SENTRY_DSN and REDIS_URL
