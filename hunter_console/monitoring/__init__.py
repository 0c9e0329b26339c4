"""Post-deployment monitoring: samples of the API's metrics kept in the audit database, sliding
windows over them, and a verdict per metric against the checklist's thresholds.

    store.py    SampleStore: the `metric_samples` table (its own, next to the audit events)
    sampler.py  MetricsSampler: scrape /healthz/metrics on an interval, reduce, store; never raises
    windows.py  build_window / load_window, evaluate -> Verdict (PASS, FAIL, MEASURING, NO DATA)

Headless: no textual here (the monitoring pane is tui/screens/monitor.py).
"""

from hunter_console.monitoring.sampler import MetricsSampler, SampleOutcome, reduce_scrape
from hunter_console.monitoring.store import Sample, SampleStore
from hunter_console.monitoring.windows import (
    FAIL,
    MEASURING,
    METRICS,
    NO_DATA,
    PASS,
    WINDOWS,
    Verdict,
    Window,
    build_window,
    evaluate,
    evaluate_all,
    load_window,
    parse_window,
)

__all__ = [
    "FAIL", "MEASURING", "METRICS", "NO_DATA", "PASS", "WINDOWS", "MetricsSampler", "Sample", "SampleOutcome",
    "SampleStore", "Verdict", "Window", "build_window", "evaluate", "evaluate_all", "load_window", "parse_window",
    "reduce_scrape",
]
