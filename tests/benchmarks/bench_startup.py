"""Cold start to an interactive checklist, against a minimal Textual app started the same way.

Each run is a fresh interpreter (`python -c ...`) that builds its app, runs it headless at 80x24,
and exits as soon as the first screen has been laid out and refreshed. For hunter-console that
includes loading settings, opening the real audit log (a temp file) and the default checklist,
exactly what `hunter-console tui` does before `make_app(session).run()`.

Two cases for the console: the audit database already exists (every launch after the first on a
bastion), and a new one is created (schema, triggers and indexes, with fsyncs) on each run.
Prints the median of 5 runs of each and the ratios (goal: <= 1.5x). Not part of the test suite:
`make bench`, or `.venv/bin/python tests/benchmarks/bench_startup.py`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNS = 5

# Both report, then exit, from an auto-pilot once the first screen is up: the same harness for
# both. What is timed is launch to interactive (the parent's clock at launch, passed in, against
# the child's when ready): shutting down afterwards is not part of starting.
EXIT_WHEN_READY = """
import os, sys, time
def report_ready():
    print("READY", time.time() - float(os.environ["BENCH_T0"]), file=sys.stderr, flush=True)
import asyncio
async def shown(pilot, selector):
    # interactive: the widget is on screen with its content (not "the app went idle": live
    # probes keep the console busy by design while it already answers keys)
    while not pilot.app.screen.query(selector):
        await asyncio.sleep(0.005)
    return pilot.app.screen.query_one(selector)
async def ready(pilot):
    await shown(pilot, "Static")
    report_ready()
    pilot.app.exit()
"""

MINIMAL = EXIT_WHEN_READY + """
from textual.app import App
from textual.widgets import Footer, Static

class Minimal(App):
    def compose(self):
        yield Static("hello")
        yield Footer()

Minimal().run(headless=True, size=(80, 24), auto_pilot=ready)
"""

CONSOLE = EXIT_WHEN_READY + """
import sys
from hunter_console.config import load_settings
from hunter_console.session import open_session

settings = load_settings(audit=sys.argv[1], operator="bench", environ={})
session = open_session(settings, record_open=True)
from hunter_console.tui.app import make_app
app = make_app(session)
counted = []
async def ready_with_checklist(pilot):
    items = await shown(pilot, "#items")
    while not items.option_count:
        await asyncio.sleep(0.005)
    counted.append(items.option_count)
    report_ready()  # live probes are already running: they start on mount
    pilot.app.exit()
app.run(headless=True, size=(80, 24), auto_pilot=ready_with_checklist)
assert counted and counted[0] > 0, "the checklist was not on screen"
"""


def once(code: str, *args: str) -> float:
    env = {**os.environ, "BENCH_T0": repr(time.time())}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("READY ")]
    if done.returncode or not ready:
        sys.exit(f"benchmark run failed:\n{done.stderr}")
    return float(ready[0])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        existing = str(Path(tmp) / "existing.db")
        once(MINIMAL)  # warm the OS file cache and .pyc files for both, untimed
        once(CONSOLE, existing)  # ...and create the audit db the "existing" case reuses
        minimal, console, console_new = [], [], []
        for n in range(RUNS):  # interleaved, so drift on a noisy machine hits all alike
            minimal.append(once(MINIMAL))
            console.append(once(CONSOLE, existing))
            console_new.append(once(CONSOLE, str(Path(tmp) / f"new-{n}.db")))
    m = statistics.median(minimal)
    rows = [("minimal textual app", minimal), ("hunter-console, existing audit db", console),
            ("hunter-console, new audit db", console_new)]
    for label, times in rows:
        t = statistics.median(times)
        ratio = "" if times is minimal else f"  ratio {t / m:.2f}x {'OK' if t / m <= 1.5 else 'OVER'} (goal <= 1.5x)"
        print(f"{label:34}: median {t:.3f} s{ratio}   [{', '.join(f'{x:.3f}' for x in times)}]")


if __name__ == "__main__":
    main()
