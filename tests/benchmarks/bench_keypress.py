"""How long a key press takes to show on screen while the probe sweep runs, against the same
presses with probes off (the baseline measured in this run). Goal: p95 < 50 ms during a sweep.

A sandbox demo workspace is started (sandbox v0.9.0 on a free 127.0.0.1 port), the console is
opened headless on it at 80x24 with live probes, and `j`/`k` are pressed while every probe of the
default checklist runs; each press is timed from the key until the items pane's highlight has
moved. Not part of the test suite: `make bench`, or `.venv/bin/python tests/benchmarks/bench_keypress.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

PRESSES = 60


async def presses(settings, probes: bool) -> list[float]:
    from textual import events

    from hunter_console.session import open_session
    from hunter_console.tui.app import make_app

    app = make_app(open_session(settings), cursor_blink=False, probes=probes)
    took: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        items = app.screen.query_one("#items")
        await pilot.press("tab")
        await pilot.press("tab")  # to the items pane
        if probes:
            await pilot.press("R")  # a whole sweep in flight while we type
        for n in range(PRESSES):
            before = items.highlighted
            key = "j" if n % 2 == 0 else "k"
            start = time.perf_counter()
            app.post_message(events.Key(key, key))  # as the terminal driver delivers a key
            while items.highlighted == before:
                await asyncio.sleep(0.0005)
            took.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.02)  # a person types, the sweep goes on
    return took


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def main() -> None:
    from hunter_console import demo
    from hunter_console.config import load_settings
    from hunter_console.events import Outcome

    with tempfile.TemporaryDirectory() as tmp:
        workspace = await demo.prepare(Path(tmp) / "ws")
        async for event in demo.start(workspace):
            if isinstance(event, Outcome) and not event.ok:
                raise SystemExit(f"the sandbox did not start: {event.message}")
        try:
            settings = load_settings(workspace.config_path, operator="bench", environ={})
            baseline = await presses(settings, probes=False)
            during = await presses(settings, probes=True)
        finally:
            await demo.stop(workspace)
    print(f"key press to screen, {PRESSES} presses at 80x24 (ms)")
    for label, values in (("no probes (baseline)", baseline), ("during a probe sweep", during)):
        print(f"  {label:22} p50 {statistics.median(values):6.1f}   p95 {p95(values):6.1f}")
    print(f"  p95 ratio during/baseline {p95(during) / p95(baseline):.2f}x; "
          f"goal p95 < 50 ms during a sweep: {'met' if p95(during) < 50 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
