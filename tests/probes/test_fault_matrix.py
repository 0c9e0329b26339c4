"""The fault matrix: for each sandbox fault knob, exactly the expected checklist items fail and
the gate says NO-GO; a clean sandbox at head passes every automated item and, with the manual
items signed off through the session, the gate says GO.

Expectations are written by WHAT an item probes (its signature: `http /healthz/ready`,
`metrics error_rate`, `ratelimit`), so they hold for the default checklist whatever its ids.
Knobs whose effect lives in the API's cumulative counters (error_rate, latency_ms,
low_cache_hit) each get a fresh sandbox; the others are flipped on one running sandbox.
"""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from hunter_console.audit import AuditLog
from hunter_console.config import DEFAULT_SECRETS, Environment
from hunter_console.events import Status
from hunter_console.probes import ProbeContext, probe_items, sweep

from probe_helpers import (PRODUCTION_ENV, REPO, environ_for, free_port, hunter_checklist, migrate, pg_url,
                           reset_rate_limit, sandbox_env, signature, start_sandbox, stop_sandbox)

FAILING = (Status.FAIL, Status.ERROR)
HEALTH = ("/healthz/live", "/healthz/ready", "/healthz/startup")
WINDOW_WARN = "metrics.window"  # judged over a measured window: WARN "measuring" until samples cover it

# knob -> value -> the signatures that must fail (and nothing else may)
FLIPPED = [
    ("auth_off", True, {"http.auth"}),
    ("rate_limit_off", True, {"ratelimit"}),
    ("500_for_404", True, {"http.not_found"}),
    ("legacy_gone", True, {"http.versioning"}),
    ("fail_ready", True, {"http /healthz/ready", "http.versioning " + ",".join(HEALTH)}),
    ("fail_startup", True, {"http /healthz/ready", "http /healthz/startup", "http.versioning " + ",".join(HEALTH)}),
]
API_ITEMS = {"http /api/v1/leads", "http /api/v1/scan", "http /api/v1/leads/example.com/sales-summary",
             "http.auth", "http.versioning", "http.bulk_scan", "http.cache"}
# knob -> value -> traffic made under it -> knob kept on for the sweep? -> failing signatures
REMEMBERED = [
    ("error_rate", 1.0, True, API_ITEMS | {"metrics error_rate", "metrics.window error_rate"}),
    ("latency_ms", 700, False, {"metrics p95_ms", "metrics.window p95_ms"}),
    ("low_cache_hit", True, True, {"http.cache", "metrics cache_hit_rate", "metrics.window cache_hit_rate"}),
]


def session_for(settings, base_url, tmp_path):
    from hunter_console.session import ReleaseSession

    environment = Environment(name=settings.env_name, base_url=base_url, secrets=dict(DEFAULT_SECRETS))
    current = dataclasses.replace(settings, environments={settings.env_name: environment},
                                  audit_path=tmp_path / f"audit-{uuid.uuid4().hex[:6]}.db")
    return ReleaseSession(current, hunter_checklist(), AuditLog(current.audit_path))


def record_backup(session, tmp_path):
    """What the backup action leaves in the audit log (see probes/backup.py)."""
    dump = tmp_path / "backup_pre_v1.0.sql"
    dump.write_text("-- pg_dump of the test database\n")
    data = dump.read_bytes()
    session.audit.append(kind="action.end", release=session.release, environment=session.environment,
                         operator="alice", host="local", action="backup", status="ok", message="backup done",
                         detail={"artifacts": [{"path": str(dump), "size": len(data), "kind": "backup",
                                                "sha256": hashlib.sha256(data).hexdigest()}]})


async def run_sweep(session, database_url):
    reset_rate_limit()
    environ = {**environ_for(database_url=database_url), **PRODUCTION_ENV}
    async with ProbeContext.open(session.settings, audit=session.audit, environ=environ) as context:
        return await sweep(session.checklist.items(), context, on_result=session.record_probe)


def present(session, expected: set[str]) -> set[str]:
    """The expected signatures this checklist has (the mirror and the default differ a little)."""
    return expected & {signature(item) for item in probe_items(session.checklist.items())}


def failing(session, results) -> set[str]:
    by_id = {item.id: item for item in session.checklist.items()}
    return {signature(by_id[r.item_id]) for r in results if r.status in FAILING}


def describe(results) -> str:
    return "\n".join(f"{r.status.value:5} {r.item_id}: {r.reason}" for r in results if r.status is not Status.PASS)


def warm_up(base_url: str) -> None:
    """The traffic a released API sees before anyone looks at its dashboards."""
    reset_rate_limit()
    from probe_helpers import API_KEY

    from concurrent.futures import ThreadPoolExecutor

    with httpx.Client(base_url=base_url, headers={"X-API-Key": API_KEY}, timeout=10,
                      limits=httpx.Limits(max_connections=16)) as client:
        client.get("/api/v1/leads")  # the first of each is a miss, the rest hit
        client.get("/api/v1/leads/warm.example.com/sales-summary")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: client.get("/api/v1/leads" if i % 2 else
                                               "/api/v1/leads/warm.example.com/sales-summary"), range(14)))


async def test_clean_sandbox_is_go_and_each_knob_is_no_go(sandbox, settings, tmp_path):
    session = session_for(settings, sandbox.base_url, tmp_path)
    record_backup(session, tmp_path)
    warm_up(sandbox.base_url)
    start = time.perf_counter()
    results = await run_sweep(session, sandbox.database_url)
    clean_s = time.perf_counter() - start
    assert not failing(session, results), describe(results)
    by_id = {item.id: item for item in session.checklist.items()}
    warned = {r.item_id for r in results if r.status is Status.WARN}
    assert all(by_id[i].probe.kind == WINDOW_WARN for i in warned), describe(results)
    assert len(results) == len(probe_items(session.checklist.items())) and clean_s < 10, clean_s

    # every automated item passes; what is left open is what only a person can judge
    probed = {item.id for item in probe_items(session.checklist.items())}
    for item in session.open_items():
        assert item.id not in probed or item.id in warned, item.id
        session.signoff(item.id, "checked by hand" if item.id not in warned else "watched the dashboard")
    assert session.gate() == "GO"

    for knob, value, expected in FLIPPED:
        sandbox.faults(**{knob: value})
        try:
            results = await run_sweep(session, sandbox.database_url)
        finally:
            sandbox.reset_faults()
        got, expected = failing(session, results), present(session, expected)
        assert got == expected, f"{knob}: expected {sorted(expected)}, got {sorted(got)}\n{describe(results)}"
        assert session.gate() == "NO-GO", knob
        assert {i.id for i in session.open_items()} == {r.item_id for r in results if r.status in FAILING
                                                        and by_id[r.item_id].required}, knob

    results = await run_sweep(session, sandbox.database_url)
    assert not failing(session, results) and session.gate() == "GO", describe(results)


@pytest.mark.parametrize("knob,value,kept_on,expected", REMEMBERED, ids=[k for k, *_ in REMEMBERED])
async def test_knobs_the_metrics_remember(knob, value, kept_on, expected, module_db, settings, tmp_path):
    running = start_sandbox(module_db, tmp_path)
    try:
        running.faults(**{knob: value})
        warm_up(running.base_url)
        if not kept_on:
            running.reset_faults()
        session = session_for(settings, running.base_url, tmp_path)
        record_backup(session, tmp_path)
        results = await run_sweep(session, module_db)
    finally:
        stop_sandbox(running)
    got, expected = failing(session, results), present(session, expected)
    assert expected and got == expected, f"{knob}: expected {sorted(expected)}, got {sorted(got)}\n{describe(results)}"
    assert session.gate() == "NO-GO"


async def test_crash_on_start_leaves_only_the_api_items_failing(module_db, settings, tmp_path):
    port = free_port()
    crashed = subprocess.run(
        [sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0", "--port", str(port),
         "--database-url", module_db],
        env=sandbox_env(module_db, HUNTER_FAULT_CRASH_ON_START="1"), cwd=REPO, capture_output=True, timeout=30)
    assert crashed.returncode != 0
    session = session_for(settings, f"http://127.0.0.1:{port}", tmp_path)
    record_backup(session, tmp_path)
    results = await run_sweep(session, module_db)
    by_id = {item.id: item for item in session.checklist.items()}
    for result in results:
        kind = by_id[result.item_id].probe.kind
        api = kind.startswith(("http", "metrics", "ratelimit"))
        assert (result.status is Status.ERROR) == api, f"{result.item_id} {result.status}: {result.reason}"
        if api:
            assert "connection refused" in result.reason, result.reason


async def test_schema_behind_head(make_db, settings, tmp_path):
    url = pg_url(make_db())
    migrate(url, "c3e5a7b9d1f4")  # v0.9's schema: no CSP P-Model, no G20 columns
    running = start_sandbox(url, tmp_path)
    try:
        session = session_for(settings, running.base_url, tmp_path)
        record_backup(session, tmp_path)
        results = await run_sweep(session, url)
    finally:
        stop_sandbox(running)
    got = failing(session, results)
    assert {"postgres.revision", "postgres.columns", "http /healthz/ready"} <= got, describe(results)
    assert session.gate() == "NO-GO"
