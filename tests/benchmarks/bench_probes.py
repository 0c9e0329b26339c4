"""Sweep wall time vs the slowest single probe (goal: sweep <= 1.2x the slowest), against a real
sandbox (uvicorn) on PostgreSQL and Redis, with the default checklist. Prints ratios; medians of
5 runs. Standalone: `.venv/bin/python tests/benchmarks/bench_probes.py`."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "probes")]

from hunter_console.checklist.default import default_checklist  # noqa: E402
from hunter_console.probes import ProbeContext, probe_items, run_probe, sweep  # noqa: E402
from hunter_console.probes.sweep import is_exclusive  # noqa: E402
from probe_helpers import (PG_ADMIN, PRODUCTION_ENV, environ_for, make_environment, migrate, pg_url,  # noqa: E402
                           reset_rate_limit, start_sandbox, stop_sandbox)

RUNS = 5


async def measure(base_url: str, database_url: str, items) -> tuple[float, float, str, float]:
    environ = {**environ_for(database_url=database_url), **PRODUCTION_ENV}
    async with ProbeContext.open(environment=make_environment(base_url), environ=environ) as ctx:
        reset_rate_limit()
        start = time.perf_counter()
        await sweep(items, ctx)
        sweep_s = time.perf_counter() - start
    singles = {}
    for item in items:  # each alone, in a fresh context (no quota wait carried over)
        async with ProbeContext.open(environment=make_environment(base_url), environ=environ) as ctx:
            reset_rate_limit()
            start = time.perf_counter()
            await run_probe(item, ctx)
            singles[item.id] = time.perf_counter() - start
    slowest = max(singles, key=singles.get)
    ordinary = max(v for k, v in singles.items() if not is_exclusive(next(i for i in items if i.id == k)))
    return sweep_s, singles[slowest], slowest, ordinary


def main() -> None:
    name = "hc_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg_url(name)
    sandbox = None
    try:
        migrate(url)
        sandbox = start_sandbox(url, Path(tempfile.mkdtemp()), RATE_LIMIT_PER_MINUTE="120")
        items = probe_items(default_checklist().items())
        sandbox.traffic("/api/v1/leads", 10)
        rows = [asyncio.run(measure(sandbox.base_url, url, items)) for _ in range(RUNS)]
        sweep_s = statistics.median(r[0] for r in rows)
        slowest_s = statistics.median(r[1] for r in rows)
        ordinary_s = statistics.median(r[3] for r in rows)
        print(f"default checklist: {len(items)} probe items, slowest single: {rows[-1][2]}")
        print(f"sweep {sweep_s * 1000:.0f} ms, slowest single probe {slowest_s * 1000:.0f} ms, "
              f"ratio {sweep_s / slowest_s:.2f}x (goal <= 1.2x)")
        print(f"slowest ordinary (non-exclusive) probe {ordinary_s * 1000:.0f} ms; the rate-limit burst runs after"
              f" the others, so sweep ~= ordinary + burst: {(sweep_s / (ordinary_s + slowest_s)):.2f}x of that sum")
    finally:
        if sandbox is not None:
            stop_sandbox(sandbox)
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
