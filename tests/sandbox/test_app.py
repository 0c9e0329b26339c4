"""The sandbox app in-process (httpx.ASGITransport) on real PostgreSQL, SQLite and Redis:
every endpoint, auth, rate limit, cache, admin, logs and every fault knob."""

from __future__ import annotations

import time

import psycopg
import pytest

from hunter_console.sandbox.schema import SALES_ENGINE_REVISION

from .conftest import LogCapture, migrate

KEY = {"X-API-Key": "test-key-1"}
BASE_ENV = {"HUNTER_API_KEY": "test-key-1", "HUNTER_ADMIN_TOKEN": "admin-token-1"}
ADMIN = {"X-Admin-Token": "admin-token-1"}


@pytest.fixture
def migrated_pg(fresh_pg):
    migrate(fresh_pg, "head")
    return fresh_pg


@pytest.fixture
def migrated_sqlite(sqlite_url):
    migrate(sqlite_url, "head")
    return sqlite_url


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        base, _, rest = key.partition("{")
        got = ",".join(sorted(p for p in rest.rstrip("}").split(",") if p))
        if base == name and got == want:
            return float(value)
    return 0.0


# -- health and metrics
async def test_health_endpoints_on_postgres_and_redis(app_factory, migrated_pg, redis_url):
    env = {**BASE_ENV, "REDIS_URL": redis_url}
    async with app_factory(env, database_url=migrated_pg) as (client, _):
        for path in ("/healthz/live", "/healthz/startup", "/healthz/ready"):
            response = await client.get(path)  # no API key needed
            assert response.status_code == 200, (path, response.text)
        body = (await client.get("/healthz/ready")).json()
        assert body["status"] == "ready" and body["version"] == "v1.0.0"
        assert body["checks"] == {"database": "ok", "schema": "ok (f786f93501ea)", "redis": "ok"}


async def test_v1_not_ready_before_migrating_and_ready_after(app_factory, fresh_pg):
    migrate(fresh_pg, SALES_ENGINE_REVISION)
    async with app_factory(BASE_ENV, database_url=fresh_pg) as (client, _):
        response = await client.get("/healthz/ready")
        assert response.status_code == 503
        assert response.json()["problems"] == [f"schema: at {SALES_ENGINE_REVISION}: v1.0.0 needs f786f93501ea or later"]
        assert (await client.get("/healthz/live")).status_code == 200
        migrate(fresh_pg, "head")
        assert (await client.get("/healthz/ready")).status_code == 200


async def test_v09_ready_at_its_revision_and_at_head(app_factory, fresh_pg):
    async with app_factory(BASE_ENV, version="v0.9.0", database_url=fresh_pg) as (client, _):
        body = (await client.get("/healthz/ready")).json()
        assert body["checks"]["schema"] == f"not migrated: needs {SALES_ENGINE_REVISION}"
        migrate(fresh_pg, SALES_ENGINE_REVISION)
        assert (await client.get("/healthz/ready")).status_code == 200
        migrate(fresh_pg, "head")
        assert (await client.get("/healthz/ready")).status_code == 200  # additive migration
        response = await client.post("/api/v1/scan", json={"domain": "old.example"}, headers=KEY)
        assert response.status_code == 200 and "tenant_size" not in response.json()["lead"]


async def test_ready_names_an_unreachable_database_and_redis(app_factory):
    env = {"REDIS_URL": "redis://127.0.0.1:1/0"}
    async with app_factory(env, database_url="postgresql://hunter:pw-not-shown@127.0.0.1:1/x") as (client, _):
        response = await client.get("/healthz/ready")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["database"].startswith("unreachable:") and checks["redis"].startswith("unreachable:")
        assert "pw-not-shown" not in response.text


async def test_metrics_exposition(app_factory, migrated_sqlite):
    async with app_factory(BASE_ENV, database_url=migrated_sqlite) as (client, _):
        await client.get("/api/v1/leads", headers=KEY)
        await client.get("/api/v1/leads/acme.example/sales-summary", headers=KEY)
        await client.get("/api/v1/leads/acme.example/sales-summary", headers=KEY)
        await client.get("/no/such/route")
        response = await client.get("/healthz/metrics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert metric(text, "hunter_http_requests_total", route="/api/v1/leads", method="GET", status="200") == 1
        assert metric(text, "hunter_http_requests_total", route="/api/v1/leads/{domain}/sales-summary",
                      method="GET", status="200") == 2
        assert metric(text, "hunter_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
        assert metric(text, "hunter_http_request_duration_seconds_count", route="/api/v1/leads", method="GET") == 1
        assert 'hunter_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/api/v1/leads"}' in text
        assert metric(text, "hunter_cache_hits_total") == 1 and metric(text, "hunter_cache_misses_total") == 2
        assert metric(text, "hunter_db_pool_size") == 5
        assert "hunter_db_pool_checked_out" in text
        assert metric(text, "hunter_app_info", version="v1.0.0") == 1


# -- the API
async def test_api_v1_and_legacy_routes_use_the_database(app_factory, migrated_pg):
    async with app_factory(BASE_ENV, database_url=migrated_pg) as (client, _):
        scanned = await client.post("/api/v1/scan", json={"domain": "Example.com"}, headers=KEY)
        assert scanned.status_code == 200
        lead = scanned.json()["lead"]
        assert lead["domain"] == "example.com" and {"tenant_size", "local_provider", "dmarc_coverage"} <= set(lead)
        assert (await client.post("/scan?domain=acme.example", headers=KEY)).status_code == 200
        with psycopg.connect(migrated_pg) as conn:
            rows = conn.execute("SELECT domain, tenant_size FROM companies ORDER BY domain").fetchall()
        assert [r[0] for r in rows] == ["acme.example", "example.com"] and rows[1][1] == lead["tenant_size"]
        for path in ("/api/v1/leads", "/leads"):
            body = (await client.get(path, headers=KEY)).json()
            assert body["count"] == 2 and body["leads"][1]["domain"] == "example.com"
        for path in ("/api/v1/leads/example.com/sales-summary", "/leads/example.com/sales-summary"):
            summary = (await client.get(path, headers=KEY)).json()
            assert summary["scanned"] is True and summary["readiness_score"] == lead["readiness_score"]
        unknown = (await client.get("/api/v1/leads/never-scanned.example/sales-summary", headers=KEY)).json()
        assert unknown["scanned"] is False
        again = (await client.post("/api/v1/scan", json={"domain": "example.com"}, headers=KEY)).json()
        assert again["lead"] == lead  # deterministic, and an update rather than a second row


@pytest.mark.parametrize("request_args, detail", [
    ({"json": {}}, "domain: required"),
    ({"json": {"domain": "not a domain"}}, "is not a domain name"),
    ({"content": b"{broken"}, "not JSON"),
    ({"json": {"domain": 42}}, "expected a string"),
])
async def test_scan_rejects_bad_input_with_422(app_factory, migrated_sqlite, request_args, detail):
    async with app_factory(BASE_ENV, database_url=migrated_sqlite) as (client, _):
        response = await client.post("/api/v1/scan", headers=KEY, **request_args)
        assert response.status_code == 422 and detail in response.json()["detail"]


async def test_unknown_route_and_wrong_method_are_json(app_factory, migrated_sqlite):
    async with app_factory(BASE_ENV, database_url=migrated_sqlite) as (client, _):
        response = await client.get("/api/v2/nothing")
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
        wrong = await client.get("/api/v1/scan", headers=KEY)
        assert wrong.status_code == 405 and wrong.headers["content-type"] == "application/json"


async def test_api_key_auth(app_factory, migrated_sqlite):
    async with app_factory(BASE_ENV, database_url=migrated_sqlite) as (client, _):
        missing = await client.get("/api/v1/leads")
        assert missing.status_code == 401 and "missing" in missing.json()["detail"]
        wrong = await client.get("/leads", headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": "API key not valid"}
        assert (await client.get("/api/v1/leads", headers=KEY)).status_code == 200
    async with app_factory({}, database_url=migrated_sqlite) as (client, _):  # no HUNTER_API_KEY: open
        assert (await client.get("/api/v1/leads")).status_code == 200


async def test_rate_limit_in_process(app_factory, migrated_sqlite):
    env = {**BASE_ENV, "RATE_LIMIT_PER_MINUTE": "3"}
    async with app_factory(env, database_url=migrated_sqlite) as (client, sandbox):
        statuses = [(await client.get("/api/v1/leads", headers=KEY)).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        limited = await client.get("/api/v1/leads", headers=KEY)
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "rate limit exceeded" in limited.json()["detail"]
        assert (await client.get("/healthz/ready")).status_code == 200  # health is never limited
        assert sandbox.redis is None


async def test_rate_limit_in_redis_is_shared_between_replicas(app_factory, migrated_pg, redis_url, redis_client):
    env = {**BASE_ENV, "RATE_LIMIT_PER_MINUTE": "4", "REDIS_URL": redis_url}
    async with app_factory(env, database_url=migrated_pg) as (one, _):
        async with app_factory(env, database_url=migrated_pg) as (two, _):
            statuses = [(await c.get("/api/v1/leads", headers=KEY)).status_code for c in (one, two, one, two, one)]
            assert statuses == [200, 200, 200, 200, 429]
            limited = await two.get("/leads", headers=KEY)
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    keys = [k.decode() for k in redis_client.scan_iter("hunter:ratelimit:*")]
    assert len(keys) == 1 and "test-key-1" not in keys[0]
    assert 0 < redis_client.ttl(keys[0]) <= 61


async def test_cache_in_process_hits_and_misses(app_factory, migrated_sqlite):
    async with app_factory(BASE_ENV, database_url=migrated_sqlite) as (client, sandbox):
        first = await client.get("/api/v1/leads/acme.example/sales-summary", headers=KEY)
        second = await client.get("/api/v1/leads/acme.example/sales-summary", headers=KEY)
        assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
        assert first.json() == second.json()
        await client.post("/api/v1/scan", json={"domain": "acme.example"}, headers=KEY)  # invalidates
        third = await client.get("/api/v1/leads/acme.example/sales-summary", headers=KEY)
        assert third.headers["X-Cache"] == "MISS" and third.json()["scanned"] is True
        text = (await client.get("/healthz/metrics")).text
        assert metric(text, "hunter_cache_hits_total") == 1 and metric(text, "hunter_cache_misses_total") == 2


async def test_cache_in_redis(app_factory, migrated_pg, redis_url, redis_client):
    env = {**BASE_ENV, "REDIS_URL": redis_url}
    async with app_factory(env, database_url=migrated_pg) as (client, _):
        assert (await client.get("/api/v1/leads", headers=KEY)).headers["X-Cache"] == "MISS"
    async with app_factory(env, database_url=migrated_pg) as (client, _):  # another replica, same cache
        assert (await client.get("/leads", headers=KEY)).headers["X-Cache"] == "HIT"
        text = (await client.get("/healthz/metrics")).text
        assert metric(text, "hunter_cache_hits_total") == 1
    assert [k.decode() for k in redis_client.scan_iter("hunter:cache:*")] == ["hunter:cache:v1.0.0:leads"]


# -- logs
async def test_structured_json_logs_without_secrets(app_factory, migrated_sqlite):
    log = LogCapture()
    env = {**BASE_ENV, "LOG_LEVEL": "info"}
    async with app_factory(env, database_url=migrated_sqlite, log=log) as (client, _):
        await client.get("/api/v1/leads", headers=KEY)
        await client.get("/healthz/live")
        await client.post("/_admin/faults", json={"error_rate": 1}, headers=ADMIN)
        await client.get("/leads", headers=KEY)
    records = log.records()
    request = next(r for r in records if r["msg"] == "request" and r["route"] == "/api/v1/leads")
    assert {"ts", "level", "msg", "route", "status", "duration_ms"} <= set(request)
    assert request["status"] == 200 and request["level"] == "INFO"
    assert not any(r.get("route") == "/healthz/live" for r in records)  # DEBUG, below INFO
    assert any(r["level"] == "ERROR" and r.get("status") == 500 for r in records)
    raw = log.getvalue()
    assert "test-key-1" not in raw and "admin-token-1" not in raw


async def test_log_level_debug_shows_health_requests(app_factory, migrated_sqlite):
    log = LogCapture()
    async with app_factory({"LOG_LEVEL": "DEBUG"}, database_url=migrated_sqlite, log=log) as (client, _):
        await client.get("/healthz/live")
    assert any(r.get("route") == "/healthz/live" and r["level"] == "DEBUG" for r in log.records())


async def test_unhandled_errors_are_json_500_and_logged(app_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"  # never migrated: the leads query fails
    log = LogCapture()
    async with app_factory({}, database_url=url, log=log) as (client, _):
        response = await client.get("/api/v1/leads")
        assert response.status_code == 500 and response.json() == {"detail": "Internal Server Error"}
    error = next(r for r in log.records() if r["msg"] == "unhandled error")
    assert "no such table" in error["error"]


# -- the admin endpoint
async def test_admin_faults_endpoint_guarded(app_factory, migrated_sqlite):
    async with app_factory({}, database_url=migrated_sqlite) as (client, _):  # no token configured
        assert (await client.get("/_admin/faults", headers=ADMIN)).status_code == 404
    async with app_factory(BASE_ENV, database_url=migrated_sqlite) as (client, sandbox):
        assert (await client.get("/_admin/faults")).status_code == 403
        assert (await client.get("/_admin/faults", headers={"X-Admin-Token": "wrong"})).status_code == 403
        body = (await client.get("/_admin/faults", headers=ADMIN)).json()
        assert body["active"] == [] and body["faults"]["500_for_404"] is False
        changed = await client.post("/_admin/faults", json={"latency_ms": 5, "500_for_404": True}, headers=ADMIN)
        assert changed.status_code == 200 and changed.json()["active"] == ["latency_ms", "500_for_404"]
        assert sandbox.faults.server_error_for_404 is True
        for bad in ({"error_rate": 3}, {"no_such_knob": True}, ["error_rate"]):
            response = await client.post("/_admin/faults", json=bad, headers=ADMIN)
            assert response.status_code == 400 and response.json()["detail"]
        assert sandbox.faults.error_rate == 0


# -- every fault knob
async def test_fault_error_rate(app_factory, migrated_sqlite):
    env = {**BASE_ENV, "HUNTER_FAULT_ERROR_RATE": "1.0"}
    async with app_factory(env, database_url=migrated_sqlite) as (client, _):
        assert (await client.get("/api/v1/leads", headers=KEY)).status_code == 500
        assert (await client.get("/healthz/ready")).status_code == 200  # health is not an API route
        await client.post("/_admin/faults", json={"error_rate": 0.5}, headers=ADMIN)
        statuses = [(await client.get("/leads", headers=KEY)).status_code for _ in range(60)]
        assert 5 <= statuses.count(500) <= 55 and set(statuses) == {200, 500}


async def test_fault_latency_ms(app_factory, migrated_sqlite):
    env = {**BASE_ENV, "HUNTER_FAULT_LATENCY_MS": "250"}
    async with app_factory(env, database_url=migrated_sqlite) as (client, _):
        start = time.perf_counter()
        assert (await client.get("/api/v1/leads", headers=KEY)).status_code == 200
        assert time.perf_counter() - start >= 0.25
        text = (await client.get("/healthz/metrics")).text
        assert metric(text, "hunter_http_request_duration_seconds_bucket", route="/api/v1/leads", method="GET",
                      le="0.1") == 0


async def test_fault_fail_ready(app_factory, migrated_sqlite):
    async with app_factory({"HUNTER_FAULT_FAIL_READY": "true"}, database_url=migrated_sqlite) as (client, _):
        response = await client.get("/healthz/ready")
        assert response.status_code == 503 and response.json()["problems"] == ["fault: fail_ready is on"]
        assert (await client.get("/healthz/live")).status_code == 200


async def test_fault_fail_startup(app_factory, migrated_sqlite):
    async with app_factory({**BASE_ENV, "HUNTER_FAULT_FAIL_STARTUP": "1"}, database_url=migrated_sqlite) as (client, _):
        assert (await client.get("/healthz/startup")).status_code == 503
        assert (await client.get("/healthz/ready")).status_code == 503
        await client.post("/_admin/faults", json={"fail_startup": False}, headers=ADMIN)
        assert (await client.get("/healthz/startup")).status_code == 200


async def test_fault_auth_off(app_factory, migrated_sqlite):
    async with app_factory({**BASE_ENV, "HUNTER_FAULT_AUTH_OFF": "1"}, database_url=migrated_sqlite) as (client, _):
        assert (await client.get("/api/v1/leads")).status_code == 200


async def test_fault_rate_limit_off(app_factory, migrated_sqlite):
    env = {**BASE_ENV, "RATE_LIMIT_PER_MINUTE": "2", "HUNTER_FAULT_RATE_LIMIT_OFF": "1"}
    async with app_factory(env, database_url=migrated_sqlite) as (client, _):
        statuses = {(await client.get("/api/v1/leads", headers=KEY)).status_code for _ in range(5)}
        assert statuses == {200}


async def test_fault_500_for_404(app_factory, migrated_sqlite):
    async with app_factory({"HUNTER_FAULT_500_FOR_404": "1"}, database_url=migrated_sqlite) as (client, _):
        response = await client.get("/definitely/not/here")
        assert response.status_code == 500 and response.json() == {"detail": "Internal Server Error"}


async def test_fault_legacy_gone(app_factory, migrated_sqlite):
    async with app_factory({**BASE_ENV, "HUNTER_FAULT_LEGACY_GONE": "1"}, database_url=migrated_sqlite) as (client, _):
        for path in ("/leads", "/leads/example.com/sales-summary"):
            response = await client.get(path, headers=KEY)
            assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
        assert (await client.post("/scan?domain=a.example", headers=KEY)).status_code == 404
        assert (await client.get("/api/v1/leads", headers=KEY)).status_code == 200


async def test_fault_low_cache_hit(app_factory, migrated_sqlite):
    async with app_factory({"HUNTER_FAULT_LOW_CACHE_HIT": "1"}, database_url=migrated_sqlite) as (client, _):
        caches = {(await client.get("/api/v1/leads")).headers["X-Cache"] for _ in range(4)}
        assert caches == {"MISS"}
        text = (await client.get("/healthz/metrics")).text
        assert metric(text, "hunter_cache_hits_total") == 0 and metric(text, "hunter_cache_misses_total") == 4


def test_fault_env_values_are_checked():
    from hunter_console.sandbox.faults import FaultError, Faults

    with pytest.raises(FaultError, match="HUNTER_FAULT_ERROR_RATE: 1.5 is not between 0 and 1"):
        Faults.from_env({"HUNTER_FAULT_ERROR_RATE": "1.5"})
    with pytest.raises(FaultError, match="unknown fault knob"):
        Faults.from_env({"HUNTER_FAULT_EVERYTHING": "1"})
