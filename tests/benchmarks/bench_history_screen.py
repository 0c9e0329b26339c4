"""Time to the history screen's first page on a 1,000,000-event audit log, against an empty one.

    python tests/benchmarks/bench_history_screen.py [N_EVENTS] [--db PATH] [--repeat R]

Builds the log with tests/history/bigdb.py unless --db names one that exists (reused: `--db
/tmp/hist-1m.db` twice builds once). In a headless app (`run_test`, 80x24) on the release and
environment of the newest event, it opens the history (`h`) R times and measures, from the key to
the paint after each answer: the first page in the table, the count, the facets in the pickers.
Prints medians and each one's ratio to the same on an empty log (compare ratios, not absolute
times: PERFORMANCE.md). The goal: the first page interactive in < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "history"))

from bigdb import build  # noqa: E402

from hunter_console.audit import AuditLog  # noqa: E402
from hunter_console.checklist import load_checklist  # noqa: E402
from hunter_console.config import load_settings  # noqa: E402
from hunter_console.session import ReleaseSession  # noqa: E402
from hunter_console.tui.app import make_app  # noqa: E402
from hunter_console.tui.screens import history as history_screen  # noqa: E402

GOAL_MS = 300.0
STAGES = ("page", "count", "facets")


def _instrument(marks: dict[str, float]) -> None:
    """Record when each answer has been painted (the refresh after its handler)."""
    screen = history_screen.HistoryScreen
    for stage, name in (("page", "on_history_screen_page_loaded"), ("count", "on_history_screen_counted"),
                        ("facets", "on_history_screen_facets_loaded")):
        original = getattr(screen, f"_bench_{name}", None) or getattr(screen, name)
        setattr(screen, f"_bench_{name}", original)

        def handler(self, message, _original=original, _stage=stage):
            _original(self, message)
            self.call_after_refresh(lambda: marks.setdefault(_stage, time.perf_counter()))

        setattr(screen, name, handler)


async def _measure(path: Path, release: str, environment: str, repeat: int, state: Path) -> dict[str, list[float]]:
    settings = dataclasses.replace(load_settings(audit=path, operator="alice", environ={}), release=release,
                                   env_name=environment, state_dir=state)
    log = AuditLog(path)
    session = ReleaseSession(settings, load_checklist(None), log)
    app = make_app(session, cursor_blink=False, probes=False, refresh_s=3600)
    app._report_interrupted = lambda: None  # runs the builder cut short are not what is measured
    marks: dict[str, float] = {}
    _instrument(marks)
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            for attempt in range(repeat + 1):  # the first warms the page cache and is not counted
                marks.clear()
                began = time.perf_counter()
                await pilot.press("h")
                while len(marks) < len(STAGES):
                    await asyncio.sleep(0.001)
                if attempt:
                    for stage in STAGES:
                        times[stage].append((marks[stage] - began) * 1000)
                await app.workers.wait_for_complete()
                await pilot.press("escape")
                await pilot.pause()
    finally:
        log.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("events", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "audit.db"
    if not path.exists():
        stats = build(path, args.events)
        print(f"built {stats['events']:,} events in {stats['seconds']:.1f} s")
    with sqlite3.connect(path) as conn:
        n = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        release, environment = conn.execute("SELECT release, environment FROM events ORDER BY id DESC LIMIT 1"
                                            ).fetchone()
    empty = Path(tmp.name) / "empty.db"
    AuditLog(empty).close()
    state = Path(tmp.name) / "state"
    base = asyncio.run(_measure(empty, release, environment, args.repeat, state))
    big = asyncio.run(_measure(path, release, environment, args.repeat, state))
    print(f"history screen at 80x24, {n:,} events, {release} on {environment}; median of {args.repeat} opens, "
          f"from the key to the paint")
    print(f"{'':10} {'empty log':>10} {f'{n:,} events':>16} {'ratio':>7}")
    worst = 0.0
    for stage in STAGES:
        e, b = statistics.median(base[stage]), statistics.median(big[stage])
        worst = max(worst, b) if stage == "page" else worst
        print(f"{stage:10} {e:8.1f} ms {b:14.1f} ms {b / e:6.2f}x")
    verdict = "OK" if worst < GOAL_MS else "SLOW"
    print(f"first page {worst:.1f} ms: {verdict} (goal < {GOAL_MS:.0f} ms)")
    tmp.cleanup()
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
