"""History queries on a 1,000,000-event audit log: filter, search, page, count, facets, run replay.

    python tests/benchmarks/bench_history.py [N_EVENTS] [--db PATH] [--repeat R]

Builds the log with tests/history/bigdb.py (hash chain and all; prints how long that took) unless
--db names one that exists (then it is reused: `--db /tmp/hist-1m.db` twice builds once). Prints
each query's median latency over R runs and its ratio to the baseline, a point lookup of one event
by id (compare ratios, not absolute times: see PERFORMANCE.md). The goal is < 100 ms for each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "history"))

from bigdb import build  # noqa: E402

from hunter_console import history  # noqa: E402
from hunter_console.audit import AuditLog  # noqa: E402
from hunter_console.history import HistoryFilter as F  # noqa: E402

GOAL_MS = 100.0


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("events", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    tmp = None
    path = args.db
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "audit.db"
    if not path.exists():
        stats = build(path, args.events)
        print(f"built {stats['events']:,} events in {stats['seconds']:.1f} s (rows+hashes {stats['insert_s']} s, "
              f"indexes {stats['index_s']} s, fts {stats['fts_s']} s)")
    log = AuditLog(path)
    try:
        n = log.head()[0]
        mid = n // 2
        run = history.page(log, filters=F(kind="action.start"), before_id=mid, limit=1)[0].id
        early = log.get(n // 10).ts[:13]  # an hour, a tenth of the way in
        queries = [
            ("baseline: one event by id", lambda: log.get(mid)),
            ("page, no filter", lambda: history.page(log)),
            ("page, release", lambda: history.page(log, filters=F(release="v1.0.0"))),
            ("page, environment+kind", lambda: history.page(log, filters=F(environment="production",
                                                                          kind="action.end"))),
            ("page, operator+status", lambda: history.page(log, filters=F(operator="carol", status="FAIL"))),
            ("page, release+env+kind+status", lambda: history.page(
                log, filters=F(release="v1.2.0", environment="dr", kind="action.end", status="interrupted"))),
            ("page, rare kind", lambda: history.page(log, filters=F(kind="decision"))),
            ("page, one hour long ago", lambda: history.page(log, filters=F(since=early, until=early + "~"))),
            ("page, since an hour long ago+op", lambda: history.page(log, filters=F(since=early, operator="bob"))),
            ("page, until mid-log (wide window)", lambda: history.page(log, filters=F(until=log.get(mid).ts))),
            ("page 2000 deep (keyset), kind", lambda: history.page(log, filters=F(kind="probe"), before_id=mid)),
            ("search 'alembic'", lambda: history.page(log, filters=F(text="alembic"))),
            ("search 'LockNotAvailable'+release", lambda: history.page(
                log, filters=F(text="LockNotAvailable", release="v0.9.1"))),
            ("search 'rehearsed'+env, deep", lambda: history.page(
                log, filters=F(text="rehearsed", environment="production"), before_id=mid)),
            ("search, no match", lambda: history.page(log, filters=F(text="xyzzyplugh"))),
            ("count, kind (capped 10k)", lambda: history.count(log, F(kind="probe"))),
            ("count, search+env", lambda: history.count(log, F(text="refused", environment="dr"))),
            ("count, rare (exact)", lambda: history.count(log, F(kind="decision", release="v1.0.0"))),
            ("facets", lambda: history.facets(log)),
            ("run_output (mid-log run)", lambda: history.run_output(log, run)),
            ("run_summary (mid-log run)", lambda: history.run_summary(log, run)),
        ]
        print(f"{n:,} events in {path}; median of {args.repeat} runs each")
        print(f"{'query':38} {'ms':>9} {'x base':>9}  goal <{GOAL_MS:g} ms")
        base = None
        failures = 0
        for name, fn in queries:
            ms = median_ms(fn, args.repeat)
            base = base or ms
            ok = ms < GOAL_MS
            failures += not ok
            print(f"{name:38} {ms:9.2f} {ms / base:9.1f}  {'ok' if ok else 'SLOW'}")
        return 1 if failures else 0
    finally:
        log.close()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
