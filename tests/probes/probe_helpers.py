"""Helpers for the probe tests (the fixtures are in conftest.py): URLs, secrets, specs, and the
sandbox Hunter API as a real uvicorn subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import httpx

from hunter_console.config import DEFAULT_SECRETS, Environment

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"
API_KEY = "probe-test-key-" + uuid.uuid4().hex  # one per run: the rate-limit bucket in Redis is per key
ADMIN_TOKEN = "probe-admin-token-" + "3" * 16
SENTRY_DSN = "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/4504"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(dbname: str, user: str = "postgres", password: str | None = None, port: int = 5432,
           host: str = "127.0.0.1") -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@{host}:{port}/{dbname}"


def make_environment(base_url: str = "http://127.0.0.1:9", name: str = "test") -> Environment:
    return Environment(name=name, base_url=base_url, secrets=dict(DEFAULT_SECRETS))


def environ_for(database_url: str | None = None, redis_url: str | None = REDIS_URL, api_key: str | None = API_KEY,
                sentry_dsn: str | None = SENTRY_DSN, **extra: str) -> dict[str, str]:
    values = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "HUNTER_API_KEY": api_key,
              "SENTRY_DSN": sentry_dsn, "HUNTER_ADMIN_TOKEN": ADMIN_TOKEN, **extra}
    return {k: v for k, v in values.items() if v is not None}


def spec(kind: str, timeout: float = 5.0, interval: float = 30.0, **params):
    from hunter_console.checklist.model import ProbeSpec

    return ProbeSpec(kind=kind, params=params, interval=interval, timeout=timeout)


def item(item_id: str, kind: str, timeout: float = 5.0, interval: float = 30.0, required: bool = True, **params):
    from hunter_console.checklist.model import Item, ItemKind

    return Item(id=item_id, title=item_id, kind=ItemKind.PROBE, required=required,
                probe=spec(kind, timeout=timeout, interval=interval, **params))


# -- the sandbox Hunter API ---------------------------------------------------------------------
class Sandbox:
    def __init__(self, port: int, database_url: str, proc: subprocess.Popen, log: Path) -> None:
        self.port = port
        self.database_url = database_url
        self.proc = proc
        self.log = log
        self.base_url = f"http://127.0.0.1:{port}"

    def faults(self, **knobs) -> dict:
        response = httpx.post(f"{self.base_url}/_admin/faults", json=knobs,
                              headers={"X-Admin-Token": ADMIN_TOKEN}, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset_faults(self) -> dict:
        current = httpx.get(f"{self.base_url}/_admin/faults", headers={"X-Admin-Token": ADMIN_TOKEN}, timeout=5).json()
        return self.faults(**{knob: (0 if isinstance(v, (int, float)) and not isinstance(v, bool) else False)
                              for knob, v in current["faults"].items()})

    def traffic(self, path: str = "/api/v1/leads", n: int = 10, method: str = "GET") -> list[int]:
        """Real API traffic, as users would make it (so the metrics have something to judge)."""
        with httpx.Client(base_url=self.base_url, headers={"X-API-Key": API_KEY}, timeout=10) as client:
            return [client.request(method, path, json={"domain": "traffic.example.com"} if method == "POST" else None)
                    .status_code for _ in range(n)]


def reset_rate_limit() -> None:
    """Forget this run's API key's rate-limit windows in Redis (the sandbox keeps them there)."""
    import hashlib

    import redis

    who = "key-" + hashlib.sha256(API_KEY.encode()).hexdigest()[:16]
    with redis.Redis.from_url(REDIS_URL) as r:
        keys = list(r.scan_iter(f"hunter:ratelimit:{who}:*"))
        if keys:
            r.delete(*keys)


def sandbox_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUNTER_FAULT_")}
    env.update({"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "HUNTER_API_KEY": API_KEY,
                "HUNTER_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONPATH": str(REPO), "RATE_LIMIT_PER_MINUTE": "60"}, **extra)
    return env


def migrate(database_url: str, target: str = "head") -> None:
    done = subprocess.run([sys.executable, "-m", "hunter_console.sandbox", "alembic", "upgrade", target],
                          env=sandbox_env(database_url), cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"migrate to {target} failed: {done.stderr[-2000:]}"


def start_sandbox(database_url: str, tmp_path: Path, **extra_env: str) -> Sandbox:
    port = free_port()
    log = tmp_path / f"sandbox-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0", "--port", str(port),
             "--database-url", database_url],
            env=sandbox_env(database_url, **extra_env), cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz/live", timeout=1).status_code == 200:
                return Sandbox(port, database_url, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(5)
    raise AssertionError(f"sandbox did not come up on {port}: {log.read_text()[-2000:]}")


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.proc.terminate()
    try:
        sandbox.proc.wait(10)
    except subprocess.TimeoutExpired:
        sandbox.proc.kill()
        sandbox.proc.wait(5)


# -- a checklist for the sweeps: the default one when it is there, else a mirror of it ----------
def mirror_checklist():
    """The automatable items of the team's Hunter v1.0 checklist, as the probes' own tests see
    them (used until / unless the default checklist is importable), plus its manual items."""
    from hunter_console.checklist.model import Checklist, Item, ItemKind, ProbeSpec, Section

    def p(item_id, kind, interval=30.0, timeout=5.0, **params):
        return Item(id=item_id, title=item_id, kind=ItemKind.PROBE, probe=ProbeSpec(kind, params, interval, timeout))

    def m(item_id):
        return Item(id=item_id, title=item_id, kind=ItemKind.MANUAL)

    sections = {
        "environment-variables": [
            p("env.database-url", "env", var="DATABASE_URL", rule="dsn"),
            p("env.redis-url", "env", var="REDIS_URL", rule="url"),
            p("env.api-key", "env", var="HUNTER_API_KEY", rule="present"),
            p("env.sentry-dsn", "env", var="SENTRY_DSN", rule="dsn"),
            p("env.log-level", "env", var="LOG_LEVEL", rule="equals", expected="INFO"),
            p("env.environment", "env", var="ENVIRONMENT", rule="equals", expected="production"),
            p("env.partner-center", "env", var="PARTNER_CENTER_ENABLED", rule="equals", expected="false"),
        ],
        "database-migration": [
            p("db.alembic-current", "postgres.revision", expected="f786f93501ea"),
            p("db.g20-columns", "postgres.columns", columns=["companies.tenant_size", "domain_signals.local_provider",
                                                              "domain_signals.dmarc_coverage"]),
            p("db.backup", "backup.fresh", max_age_h=24),
            m("db.migration-plan"), m("db.rollback-plan"),
        ],
        "health-checks": [
            p("health.live", "http", path="/healthz/live", interval=10),
            p("health.ready", "http", path="/healthz/ready", interval=10),
            p("health.startup", "http", path="/healthz/startup", interval=10),
        ],
        "monitoring": [
            p("mon.sentry", "sentry"), p("mon.metrics-endpoint", "http", path="/healthz/metrics"),
            m("mon.structured-logging"), m("mon.log-aggregation"),
        ],
        "infrastructure": [
            p("infra.redis", "redis.ping"), p("infra.db-pool", "postgres.pool"),
            p("infra.versioning", "http.versioning"),
            p("infra.rate-limit", "ratelimit", interval=300, timeout=10, max_requests=200, max_seconds=5),
        ],
        "smoke-tests": [
            p("smoke.leads", "http", path="/api/v1/leads"),
            p("smoke.scan", "http", path="/api/v1/scan", method="POST", json={"domain": "example.com"}),
            p("smoke.sales-summary", "http", path="/api/v1/leads/example.com/sales-summary"),
            p("smoke.bulk-scan", "http.bulk_scan", count=10, within_s=5),
            p("smoke.cache", "http.cache"),
            p("smoke.not-found", "http.not_found"),
            p("smoke.auth", "http.auth"),
            m("smoke.500-to-sentry"),
        ],
        "first-hour": [
            p("hour.error-rate", "metrics", metric="error_rate", max=0.01),
            p("hour.p95", "metrics", metric="p95_ms", max=500),
            m("hour.no-critical-sentry"),
        ],
        "first-day": [
            p("day.error-rate-stable", "metrics.window", metric="error_rate", window="24h"),
            p("day.latency-stable", "metrics.window", metric="p95_ms", window="24h"),
            p("day.cache-hit-rate", "metrics", metric="cache_hit_rate", min=0.5),
            p("day.pool", "metrics", metric="pool"),
        ],
    }
    return Checklist("Hunter v1.0 (probe tests' mirror)",
                     tuple(Section(sid, sid, tuple(items)) for sid, items in sections.items()), source="mirror")


def hunter_checklist():
    """The default checklist when the checklist package has it, else the mirror."""
    try:
        from hunter_console.checklist.default import default_checklist
    except ImportError:
        return mirror_checklist()
    return default_checklist()


def signature(item) -> str:
    """What an item probes, independent of its id: `http /healthz/ready`, `metrics error_rate`."""
    spec = item.probe
    if spec is None:
        return ""
    if spec.kind == "http":
        return f"http {spec.params.get('path')}"
    if spec.kind in ("metrics", "metrics.window"):
        return f"{spec.kind} {spec.params.get('metric', 'error_rate')}"
    if spec.kind == "env":
        return f"env {spec.params.get('var')}"
    if spec.kind == "http.versioning" and spec.params.get("paths"):
        return "http.versioning " + ",".join(spec.params["paths"])  # the health checks, as a list of paths
    return spec.kind


PRODUCTION_ENV = {"LOG_LEVEL": "INFO", "ENVIRONMENT": "production", "PARTNER_CENTER_ENABLED": "false"}
