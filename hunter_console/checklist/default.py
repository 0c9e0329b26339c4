"""The default Hunter v1.0 production checklist, as data.

Every section and every item of the team's seed checklist
(`shared/seed/production-deployment-checklist.md`), titles as the seed writes them, ids as the
Markdown loader gives them for the seed (`<section-slug>.<item-slug>`), so a team that switches
from this default to its own copy of the seed keeps its audit trail. What a machine can judge is
a probe, with the seed's thresholds; the deployment steps are actions with the seed's commands;
the rest is a sign-off (`manual`). The ten items the seed ticks were done before this console.

Probe kinds used here (implemented in `hunter_console/probes/`, see its registry):

    kind               params used here
    env                var, rule (present | equals | url | dsn), expected, schemes
    http               path, method, expect, json, contains
    http.auth          path
    http.not_found     (none: an unknown /api/v1 path)
    http.versioning    v1, legacy; or paths (every path answers `expect`)
    http.bulk_scan     count, within_s
    http.cache         path, domain
    postgres.revision  expected (EXPECTED_HEAD)
    postgres.columns   columns (G20_COLUMNS, "table.column")
    postgres.pool      warn_ratio, max_ratio
    redis.ping         (none)
    metrics            metric (error_rate | p95_ms | cache_hit_rate | pool), max / min
    metrics.window     window ("1h" | "24h"), metric, max / min, stable
    ratelimit          path, max_requests, max_seconds
    backup.fresh       max_age_h
    sentry             var

Action names: verify, backup, migrate, deploy (Deployment Steps 1-5), rollback and restore
(Rollback Plan; not required: only if issues are detected).
"""

from __future__ import annotations

from typing import Any

from hunter_console.checklist.ids import slugify, unique
from hunter_console.checklist.model import Checklist, Item, ItemKind, ProbeSpec, Section

__all__ = ["DEFAULT_CHECKLIST", "EXPECTED_HEAD", "G20_COLUMNS", "PROBE_KINDS", "ACTIONS", "default_checklist"]

EXPECTED_HEAD = "f786f93501ea"  # alembic head of v1.0 ("head - CSP P-Model")
G20_COLUMNS = ("companies.tenant_size", "domain_signals.local_provider", "domain_signals.dmarc_coverage")
HEALTH_PATHS = ("/healthz/live", "/healthz/ready", "/healthz/startup")
PROBE_KINDS = (
    "env", "http", "http.auth", "http.not_found", "http.versioning", "http.bulk_scan", "http.cache",
    "postgres.revision", "postgres.columns", "postgres.pool", "redis.ping", "metrics", "metrics.window",
    "ratelimit", "backup.fresh", "sentry",
)
ACTIONS = ("verify", "backup", "migrate", "deploy", "rollback", "restore")

TITLE = "Production Deployment Checklist - Hunter v1.0"


# -- how an item is written down -------------------------------------------------------------
def probe(kind: str, *, interval: float = 30.0, timeout: float = 5.0, **params: Any) -> ProbeSpec:
    return ProbeSpec(kind, dict(params), interval=interval, timeout=timeout)


def _item(title: str, detail: str, **fields: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, **fields}


def done(title: str, detail: str) -> dict[str, Any]:
    """Ticked in the seed: done before this console."""
    return _item(title, detail, done_before=True)


def manual(title: str, detail: str, *, required: bool = True) -> dict[str, Any]:
    return _item(title, detail, required=required)


def check(title: str, spec: ProbeSpec, detail: str, *, done_before: bool = False) -> dict[str, Any]:
    return _item(title, detail, kind=ItemKind.PROBE, probe=spec, done_before=done_before)


def step(title: str, action: str, commands: str, detail: str, *, required: bool = True, slug: str | None = None) -> dict[str, Any]:
    return _item(title, detail, kind=ItemKind.ACTION, action=action, commands=(commands.strip("\n"),),
                 required=required, slug=slug or action)


def _health(paths: tuple[str, ...] = HEALTH_PATHS, interval: float = 30.0) -> ProbeSpec:
    """Every health endpoint answers 200 (http.versioning with `paths` checks a list of paths)."""
    return probe("http.versioning", paths=list(paths), expect=200, interval=interval)


# -- the seed's commands ---------------------------------------------------------------------
STEP1 = """
# 1. Health checks
curl http://localhost:8000/healthz/live
curl http://localhost:8000/healthz/ready
curl http://localhost:8000/healthz/startup

# 2. Database migration status
docker-compose exec api alembic current

# 3. Test suite
docker-compose exec api pytest tests/ -v --tb=short
"""
STEP2 = """
# Production database backup
pg_dump -h <production-db-host> -U <user> -d <database> > backup_pre_v1.0_$(date +%Y%m%d_%H%M%S).sql
"""
STEP3 = """
# IMPORTANT: Use Alembic only - DO NOT use schema.sql or legacy migrations
# Run Alembic migration
docker-compose exec api alembic upgrade head

# Verify migration
docker-compose exec api alembic current
# Expected: f786f93501ea (head - CSP P-Model)

# Verify critical G20 columns exist
docker-compose exec postgres psql -U dyn365hunter -d dyn365hunter -c "
  SELECT column_name FROM information_schema.columns 
  WHERE table_name = 'companies' AND column_name = 'tenant_size';
  SELECT column_name FROM information_schema.columns 
  WHERE table_name = 'domain_signals' AND column_name IN ('local_provider', 'dmarc_coverage');
"
"""
STEP4 = """
# Build and deploy (example for Docker/Kubernetes)
docker-compose build --no-cache api
docker-compose up -d

# Or for Kubernetes
kubectl apply -f k8s/deployment.yaml
kubectl rollout status deployment/dyn365hunter-api
"""
STEP5 = """
# 1. Health checks
curl https://production-url/healthz/live
curl https://production-url/healthz/ready

# 2. Core endpoints
curl https://production-url/api/v1/leads
curl https://production-url/api/v1/scan?domain=example.com

# 3. Sales Engine endpoint
curl https://production-url/api/v1/leads/example.com/sales-summary

# 4. Metrics
curl https://production-url/healthz/metrics
"""
ROLLBACK = """
# Kubernetes
kubectl rollout undo deployment/dyn365hunter-api

# Docker Compose
docker-compose down
docker-compose up -d --scale api=0
"""
DB_ROLLBACK = """
# Alembic rollback
docker-compose exec api alembic downgrade -1

# Or restore from backup
psql -h <production-db-host> -U <user> -d <database> < backup_pre_v1.0_*.sql
"""

PRE = "Pre-Deployment Checklist"
PREP = (PRE, "Deployment Hazırlık (In Progress)")
STEPS = ("Deployment Steps",)
SMOKE = ("Smoke Tests",)
MONITORING = ("Post-Deployment Monitoring",)
SUCCESS = ("Success Criteria",)

# (section title, path, items), in the seed's order.
SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[dict[str, Any], ...]], ...] = (
    ("Teknik Hazırlık (Tamamlandı)", (PRE,), (
        done("P0 Hardening tamamlandı (G19)", "The P0 hardening work (G19) was finished before the release."),
        done("P1 Performance tamamlandı (2025-01-28)", "The P1 performance work was finished on 2025-01-28."),
        done("Stabilization Sprint tamamlandı (3 gün)", "The three-day stabilization sprint was finished."),
        done("Test Fixes tamamlandı (86 test passing, 0 failures)", "The test suite was fixed: 86 passing, 0 failures."),
        done("Sales Engine tamamlandı (G21 Phase 2)", "The Sales Engine (G21 phase 2) was finished."),
        done("Read-Only Mode tamamlandı (G21 Phase 3)", "Read-only mode (G21 phase 3) was finished."),
    )),
    ("Environment Variables", PREP, (
        check("Database connection string (`DATABASE_URL`)", probe("env", var="DATABASE_URL", rule="dsn"),
              "DATABASE_URL is set and is a well-formed PostgreSQL DSN (its value is never shown)."),
        check("Redis connection string (`REDIS_URL`)",
              probe("env", var="REDIS_URL", rule="url", schemes=["redis", "rediss", "unix"]),
              "REDIS_URL is set and is a well-formed redis:// URL (its value is never shown)."),
        check("API key secrets (production keys)", probe("env", var="HUNTER_API_KEY", rule="present"),
              "The production API key is set in the environment (its value is never shown)."),
        check("Sentry DSN (`SENTRY_DSN`)", probe("env", var="SENTRY_DSN", rule="dsn"),
              "SENTRY_DSN is set and is a well-formed Sentry DSN."),
        check("Log level (`LOG_LEVEL=INFO`)", probe("env", var="LOG_LEVEL", rule="equals", expected="INFO"),
              "LOG_LEVEL is INFO."),
        check("Environment (`ENVIRONMENT=production`)",
              probe("env", var="ENVIRONMENT", rule="equals", expected="production"),
              "ENVIRONMENT is production."),
        check("Partner Center feature flag (`PARTNER_CENTER_ENABLED=false` - Post-MVP)",
              probe("env", var="PARTNER_CENTER_ENABLED", rule="equals", expected="false"),
              "PARTNER_CENTER_ENABLED is false: Partner Center stays off until after the MVP."),
    )),
    ("Database Migration", PREP, (
        check("Alembic migration system verified (`alembic current`)",
              probe("postgres.revision", expected=EXPECTED_HEAD),
              f"alembic current reads the database's revision; it must be the v1.0 head {EXPECTED_HEAD}."),
        check("Production database backup alındı", probe("backup.fresh", max_age_h=24),
              "A verified backup of the production database was taken for this release in the last 24 hours."),
        manual("Migration planı hazır (`alembic upgrade head`)",
               "Someone has read the migrations and planned `alembic upgrade head` (timing, locks, duration)."),
        manual("Rollback planı hazır (`alembic downgrade -1`)",
               "Someone has checked that `alembic downgrade -1` works and knows when to use it."),
    )),
    ("Health Checks", PREP, (
        check("Liveness probe configured (`/healthz/live`)", probe("http", path="/healthz/live", expect=200),
              "GET /healthz/live answers 200."),
        check("Readiness probe configured (`/healthz/ready`)", probe("http", path="/healthz/ready", expect=200),
              "GET /healthz/ready answers 200 (database and Redis reachable)."),
        check("Startup probe configured (`/healthz/startup`)", probe("http", path="/healthz/startup", expect=200),
              "GET /healthz/startup answers 200."),
        manual("Health checks test edildi (local)",
               "The health checks were tried on a local deployment and behaved as expected."),
    )),
    ("Monitoring & Logging", PREP, (
        check("Sentry error tracking configured", probe("sentry", var="SENTRY_DSN"),
              "SENTRY_DSN is present and well formed, so errors can reach Sentry."),
        manual("Structured logging configured",
               "The API writes structured (JSON) log lines; a person has looked at them."),
        manual("Log aggregation configured (ELK or similar)",
               "The API's logs arrive in ELK (or similar) and can be searched there."),
        check("Metrics endpoint verified (`/healthz/metrics`)",
              probe("http", path="/healthz/metrics", expect=200, contains="# TYPE"),
              "GET /healthz/metrics answers 200 with Prometheus metrics."),
    )),
    ("Infrastructure", PREP, (
        check("Redis health check verified", probe("redis.ping"),
              "Redis (cache and rate limiter) answers PING."),
        check("Database connection pooling verified", probe("postgres.pool", warn_ratio=0.75, max_ratio=0.9),
              "PostgreSQL has connection headroom: under 75% of max_connections in use (fail at 90%)."),
        check("API versioning verified (v1 + legacy endpoints)",
              probe("http.versioning", v1="/api/v1/leads", legacy="/leads"),
              "Both /api/v1/leads and the legacy /leads route answer."),
        check("Rate limiting configured (distributed rate limiter)",
              probe("ratelimit", path="/api/v1/leads", max_requests=200, max_seconds=3.0, interval=300.0, timeout=10.0),
              "A short burst of requests is met with 429 and a Retry-After header."),
    )),
    ("Step 1: Pre-Deployment Verification", STEPS, (
        step("Step 1: Pre-Deployment Verification", "verify", STEP1,
             "Health checks answer, alembic current is read, and the test suite passes before anything changes."),
    )),
    ("Step 2: Database Backup", STEPS, (
        step("Step 2: Database Backup", "backup", STEP2,
             "Takes a pg_dump of the production database before the migration and keeps its size and sha256."),
    )),
    ("Step 3: Database Migration", STEPS, (
        step("Step 3: Database Migration", "migrate", STEP3,
             "Runs `alembic upgrade head` (Alembic only: never schema.sql or legacy SQL migrations;"
             " reset with ./scripts/reset_db_with_alembic.sh), then checks the revision and the G20 columns."),
        check(f"Verify migration (`alembic current` = `{EXPECTED_HEAD}`)",
              probe("postgres.revision", expected=EXPECTED_HEAD),
              f"After the migration the database is at head {EXPECTED_HEAD} (CSP P-Model)."),
        check("Verify critical G20 columns exist", probe("postgres.columns", columns=list(G20_COLUMNS)),
              "companies.tenant_size, domain_signals.local_provider and domain_signals.dmarc_coverage exist."),
    )),
    ("Step 4: Deployment", STEPS, (
        step("Step 4: Deployment", "deploy", STEP4,
             "Builds and starts the new API (docker-compose) or applies it to Kubernetes and waits for the rollout."),
    )),
    ("Step 5: Post-Deployment Verification", STEPS, (
        step("Step 5: Post-Deployment Verification", "verify", STEP5,
             "Health checks, the core endpoints, the Sales Engine endpoint and the metrics answer on production."),
    )),
    ("Core Functionality", SMOKE, (
        check("Health checks passing (`/healthz/live`, `/healthz/ready`, `/healthz/startup`)", _health(),
              "All three health endpoints answer 200."),
        check("Leads endpoint working (`GET /api/v1/leads`)", probe("http", path="/api/v1/leads", expect=200),
              "GET /api/v1/leads answers 200."),
        check("Scan endpoint working (`POST /api/v1/scan`)",
              probe("http", path="/api/v1/scan", method="POST", json={"domain": "example.com"}, expect="2xx",
                    timeout=15.0),
              "POST /api/v1/scan for example.com answers 2xx."),
        check("Sales Engine endpoint working (`GET /api/v1/leads/{domain}/sales-summary`)",
              probe("http", path="/api/v1/leads/example.com/sales-summary", expect=200),
              "GET /api/v1/leads/example.com/sales-summary answers 200."),
    )),
    ("Bulk Operations", SMOKE, (
        check("Bulk scan test (10 domain)",
              probe("http.bulk_scan", count=10, within_s=60.0, interval=300.0, timeout=90.0),
              "Ten scans sent side by side all succeed within 60 seconds."),
        check("Rate limiting working (distributed rate limiter)",
              probe("ratelimit", path="/api/v1/leads", max_requests=200, max_seconds=3.0, interval=300.0, timeout=10.0),
              "A short burst of requests is met with 429 and a Retry-After header."),
        check("Cache working (Redis cache layer)", probe("http.cache", path="/api/v1/leads/{domain}/sales-summary",
                                                          domain="cache-probe.example.com", timeout=10.0),
              "The same request twice: the second answer comes from the Redis cache."),
    )),
    ("Error Handling", SMOKE, (
        check("404 errors handled gracefully", probe("http.not_found"),
              "An unknown /api/v1 path answers a JSON 404, not a 500 or a stack trace."),
        manual("500 errors logged to Sentry",
               "A server error shows up as an issue in Sentry (look at the Sentry project)."),
        check("API key authentication working", probe("http.auth", path="/api/v1/leads"),
              "Requests without a key or with a wrong key are refused (401/403); the real key is let in."),
    )),
    ("First 1 Hour", MONITORING, (
        check("Error rate < 1%", probe("metrics.window", window="1h", metric="error_rate", max=0.01, interval=60.0),
              "Fewer than 1% of API requests answer 5xx over the first hour."),
        check("Latency P95 < 500ms", probe("metrics.window", window="1h", metric="p95_ms", max=500.0, interval=60.0),
              "95% of API requests answer within 500 ms over the first hour."),
        check("Health checks passing", _health(interval=60.0),
              "The health endpoints keep answering 200 through the first hour."),
        manual("No critical errors in Sentry",
               "No critical (fatal/error) issues in Sentry since the release went out."),
    )),
    ("First 24 Hours", MONITORING, (
        check("Error rate stable",
              probe("metrics.window", window="24h", metric="error_rate", max=0.01, stable=True, interval=300.0),
              "The 5xx rate stays under 1% and does not climb over the first 24 hours."),
        check("Latency stable",
              probe("metrics.window", window="24h", metric="p95_ms", max=500.0, stable=True, interval=300.0),
              "P95 latency stays under 500 ms and does not climb over the first 24 hours."),
        check("Cache hit rate > 50%",
              probe("metrics.window", window="24h", metric="cache_hit_rate", min=0.5, interval=300.0),
              "More than half of the cache lookups are hits over the first 24 hours."),
        check("Rate limiting working correctly",
              probe("ratelimit", path="/api/v1/leads", max_requests=200, max_seconds=3.0, interval=3600.0, timeout=10.0),
              "The rate limiter still answers a burst with 429 and Retry-After."),
        check("Database connection pool healthy",
              probe("metrics.window", window="24h", metric="pool", interval=300.0),
              "The API's database pool is not exhausted (no waiting connections) over the first 24 hours."),
    )),
    ("If Issues Detected", ("Rollback Plan",), (
        step("Immediate Rollback", "rollback", ROLLBACK,
             "Only if issues are detected: undo the Kubernetes rollout (or take the Compose API down).",
             required=False, slug="immediate-rollback"),
        step("Database Rollback (if needed)", "restore", DB_ROLLBACK,
             "Only if needed: `alembic downgrade -1`, or restore the pre-release backup.",
             required=False, slug="database-rollback-if-needed"),
        manual("Investigation",
               "Check Sentry for errors; check logs for issues; check health check status; check database migration status.",
               required=False),
    )),
    ("Documentation Updates", (), (
        manual("README.md güncelle (production status)", "README.md says the API is in production."),
        manual("CHANGELOG.md güncelle (v1.0.0 release)", "CHANGELOG.md has the v1.0.0 release entry."),
        manual("Production Engineering Guide güncelle", "The Production Engineering Guide describes v1.0."),
        manual("Troubleshooting Guide güncelle", "The Troubleshooting Guide covers v1.0."),
    )),
    ("Technical", SUCCESS, (
        done("All P0 items completed", "Every P0 item was completed before the release."),
        done("All P1 items completed", "Every P1 item was completed before the release."),
        done("Stabilization Sprint completed", "The stabilization sprint was completed."),
        done("Test suite passing (86 tests)", "The 86-test suite passed."),
    )),
    ("Operational", SUCCESS, (
        check("Health checks passing", _health(), "All three health endpoints answer 200."),
        check("Monitoring configured", probe("http", path="/healthz/metrics", expect=200, contains="# TYPE"),
              "The metrics endpoint serves Prometheus metrics for monitoring."),
        check("Error tracking active", probe("sentry", var="SENTRY_DSN"),
              "SENTRY_DSN is present and well formed."),
        manual("Logging configured", "Logs are structured and reach the log aggregation (ELK or similar)."),
        check("Backup strategy in place", probe("backup.fresh", max_age_h=24),
              "A verified backup of this release exists and is less than 24 hours old."),
    )),
    ("Functional", SUCCESS, (
        check("Core endpoints working", probe("http", path="/api/v1/leads", expect=200),
              "GET /api/v1/leads answers 200."),
        check("Sales Engine working", probe("http", path="/api/v1/leads/example.com/sales-summary", expect=200),
              "GET /api/v1/leads/example.com/sales-summary answers 200."),
        check("Bulk operations working",
              probe("http.bulk_scan", count=10, within_s=60.0, interval=300.0, timeout=90.0),
              "Ten scans sent side by side all succeed within 60 seconds."),
        check("Rate limiting working",
              probe("ratelimit", path="/api/v1/leads", max_requests=200, max_seconds=3.0, interval=300.0, timeout=10.0),
              "A short burst of requests is met with 429 and a Retry-After header."),
        check("Cache working", probe("http.cache", path="/api/v1/leads/{domain}/sales-summary",
                                     domain="cache-probe.example.com", timeout=10.0),
              "The same request twice: the second answer comes from the Redis cache."),
    )),
)


def _build() -> Checklist:
    section_ids: set[str] = set()
    sections = []
    for title, path, items in SECTIONS:
        section_id = unique(slugify(title, "section"), section_ids)
        item_ids: set[str] = set()
        built = []
        for spec in items:
            fields = dict(spec)
            slug = fields.pop("slug", None) or slugify(fields["title"])
            built.append(Item(id=f"{section_id}.{unique(slug, item_ids)}", **fields))
        sections.append(Section(section_id, title, tuple(built), path))
    return Checklist(title=TITLE, sections=tuple(sections), source="default")


DEFAULT_CHECKLIST: Checklist = _build()


def default_checklist() -> Checklist:
    """The default Hunter v1.0 checklist (immutable; the same object every time)."""
    return DEFAULT_CHECKLIST
