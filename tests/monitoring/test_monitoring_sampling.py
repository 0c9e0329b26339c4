"""Sampling a real sandbox API: samples land in the audit database's own table and survive a new
process; the fault knobs flip the verdicts within one (short) window and back; a restart of the
API is a counter reset, not negative traffic; a dead target is an outcome, never an exception."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time

from hunter_console.audit import AuditLog
from hunter_console.monitoring import FAIL, PASS, MetricsSampler, SampleStore, evaluate, load_window
from monitoring_helpers import API_KEY, REPO, free_port, start_sandbox

SPAN = 5.0  # a 5-second window, sampled every 0.5 s


def sampler_for(store, sandbox, **kw):
    return MetricsSampler(store, "local", sandbox.base_url, headers={"X-API-Key": API_KEY}, interval=0.5,
                          min_spacing=0, **kw)


async def sample_under_traffic(sampler, sandbox, seconds: float) -> None:
    n = int(seconds / 0.5)
    await asyncio.gather(sampler.run(n, interval=0.5), sandbox.traffic(seconds))


def verdicts(store, *metrics):
    """The window ending at the last sample (a slow scrape under load must not make it "measuring")."""
    window = load_window(store, "local", SPAN, store.latest("local").ts, max_gap=2.0)
    return window, {m: evaluate(window, m) for m in metrics}


async def test_samples_are_stored_next_to_the_audit_events(sandbox, audit_path):
    audit = AuditLog(audit_path)
    audit.append(kind="note", release="v1.0.0", environment="local", operator="alice", host="local",
                 message="before sampling")
    with SampleStore(audit_path) as store:
        outcome = await sampler_for(store, sandbox).sample_once()
    assert outcome.ok and outcome.error is None
    assert outcome.sample.data["version"] == "v1.0.0" and "req" in outcome.sample.data
    conn = sqlite3.connect(audit_path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    assert {"events", "metric_samples", "metric_samples_environment_ts"} <= tables
    plan = " ".join(r[3] for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM metric_samples WHERE environment = 'local' AND ts >= 0"))
    assert "metric_samples_environment_ts" in plan
    (data,) = conn.execute("SELECT data FROM metric_samples").fetchone()
    assert json.loads(data)["version"] == "v1.0.0" and ": " not in data  # compact JSON
    conn.close()
    assert audit.verify().ok  # the hash chain did not notice a thing
    audit.close()


async def test_faults_flip_the_verdicts_within_one_window_and_back(sandbox, store):
    sampler = sampler_for(store, sandbox)
    await sample_under_traffic(sampler, sandbox, SPAN + 2.0)
    window, v = verdicts(store, "error_rate", "p95_ms", "cache_hit_rate", "pool")
    assert window.measured, window.progress
    assert v["error_rate"].state == PASS, v["error_rate"].reason
    assert v["p95_ms"].state == PASS, v["p95_ms"].reason
    assert v["pool"].state == PASS, v["pool"].reason

    await sandbox.set_faults(error_rate=0.5, latency_ms=600)
    await sample_under_traffic(sampler, sandbox, SPAN + 1.0)
    _, v = verdicts(store, "error_rate", "p95_ms")
    assert v["error_rate"].state == FAIL and v["error_rate"].value > 0.2, v["error_rate"].reason
    assert v["p95_ms"].state == FAIL and v["p95_ms"].value >= 500, v["p95_ms"].reason

    await sandbox.set_faults(error_rate=0.0, latency_ms=0)
    await sample_under_traffic(sampler, sandbox, SPAN + 1.5)
    _, v = verdicts(store, "error_rate", "p95_ms")
    assert v["error_rate"].state == PASS, v["error_rate"].reason
    assert v["p95_ms"].state == PASS, v["p95_ms"].reason


RESTART_SCRIPT = r"""
import asyncio, sys, time
from hunter_console.monitoring import SampleStore, load_window
store = SampleStore(sys.argv[1])
w = load_window(store, "local", 3600, time.time())
print(len(store.samples("local")), len(w.samples))
"""


async def test_samples_survive_a_console_restart(sandbox, audit_path):
    with SampleStore(audit_path) as store:
        await sampler_for(store, sandbox).run(3, interval=0.2)
    # a new process on the same database sees them
    out = subprocess.run([sys.executable, "-c", RESTART_SCRIPT, str(audit_path)], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "3"]
    # and a new sampler appends to the same history
    with SampleStore(audit_path) as store:
        await sampler_for(store, sandbox).sample_once()
        assert store.count("local") == 4


async def test_an_api_restart_is_a_counter_reset(tmp_path, store):
    first = start_sandbox(tmp_path / "api")
    try:
        await sample_under_traffic(sampler_for(store, first), first, 2.0)
    finally:
        first.stop()
    second = start_sandbox(tmp_path / "api")  # the same database, a new process (and port)
    try:
        await sample_under_traffic(sampler_for(store, second), second, 2.0)
    finally:
        second.stop()
    window = load_window(store, "local", 60, time.time(), max_gap=60)
    assert window.restarts == 1
    assert all(inc.requests >= 0 and inc.errors >= 0 and inc.hits >= 0 for inc in window.increments)
    v = evaluate(window, "error_rate")
    latest = store.latest("local").data["req"][0]
    assert latest < v.amount  # the first process's requests are counted too, not lost nor negative


async def test_a_dead_target_is_an_outcome_not_an_exception(store):
    sampler = MetricsSampler(store, "local", f"http://127.0.0.1:{free_port()}", timeout=1.0)
    outcomes = await sampler.run(2, interval=0.05)
    assert [o.ok for o in outcomes] == [False, False]
    assert outcomes[0].error == "connection refused"
    assert store.count() == 0
