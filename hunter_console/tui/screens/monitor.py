"""The monitoring pane: the post-deployment metrics of the session's environment over a sliding
window (5m, 1h, 24h), one SparklinePanel a metric.

Open it with `app.push_screen(MonitorScreen(app.session))`. While it is open it scrapes the API's
`/healthz/metrics` every `interval` seconds in a worker (exclusive, group "monitor", errors do
not take the app down), stores each sample in the audit database (where the `metrics.window`
probes and `hunter-console monitor` see them too) and redraws the verdicts. `live=False` only
reads what is stored (the snapshot tests: pinned clock, fixed samples, no timer).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from hunter_console.monitoring import METRICS, WINDOWS, MetricsSampler, SampleStore, evaluate_all, load_window
from hunter_console.monitoring.windows import FAIL, PASS, Verdict, Window
from hunter_console.tui.widgets.keybar import KeyBar
from hunter_console.tui.widgets.sparkline_panel import SparklinePanel

WINDOW_ORDER = tuple(WINDOWS)  # 5m, 1h, 24h
DEFAULT_INTERVAL_S = 15.0


class MonitorScreen(Screen):
    DEFAULT_CSS = """
    MonitorScreen #monitor-title { height: 1; padding: 0 1; }
    MonitorScreen #panels { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("w", "next_window", "Window"),
        Binding("r", "sample_now", "Sample"),
    ]

    def __init__(self, session: Any, *, window: str = "1h", interval: float = DEFAULT_INTERVAL_S,
                 live: bool = True, clock: Callable[[], float] = time.time, spans: dict[str, float] | None = None) -> None:
        super().__init__()
        self.session = session
        self.spans = dict(spans or WINDOWS)
        self.window = window if window in self.spans else next(iter(self.spans))
        self.interval = interval
        self.live = live
        self.clock = clock
        self.store: SampleStore | None = None
        self.sampler: MetricsSampler | None = None
        self.verdicts: list[Verdict] = []
        self.last_error: str | None = None
        self._window: Window | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="monitor-title")
        with Vertical(id="panels"):
            for metric in METRICS:
                yield SparklinePanel(metric)
        yield KeyBar()

    def on_mount(self) -> None:
        self._title()
        try:
            self.store = SampleStore(self.session.audit.path)
        except Exception as e:  # noqa: BLE001 - say it on the pane, do not crash the console
            self.last_error = f"samples store: {e}"
            self._title()
            return
        if self.live:
            self.sampler = MetricsSampler.for_settings(self.session.settings, self.store, interval=self.interval,
                                                       clock=self.clock)
            self.set_interval(self.interval, self._tick_sample)
        self.refresh_verdicts(sample=self.live)

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    # -- work ------------------------------------------------------------------------------------
    def _tick_sample(self) -> None:
        self.refresh_verdicts(sample=True)

    @work(exclusive=True, group="monitor", exit_on_error=False)
    async def refresh_verdicts(self, sample: bool = False) -> None:
        """Scrape once (when sampling) and judge the window; runs on the app's loop, the blocking
        parts (sqlite, the window maths) in a thread."""
        if self.store is None:
            return
        if sample and self.sampler is not None:
            outcome = await self.sampler.sample_once()
            self.last_error = outcome.error
        store, environment, span, now = self.store, self.session.settings.env_name, self.spans[self.window], self.clock()

        def judge() -> tuple[Window, list[Verdict]]:
            window = load_window(store, environment, span, now)
            return window, evaluate_all(window)

        window, verdicts = await asyncio.to_thread(judge)
        if not self.is_attached:
            return
        self._window, self.verdicts = window, verdicts
        for verdict in verdicts:
            self.query_one(f"#panel-{verdict.metric}", SparklinePanel).verdict = verdict
        self._title()

    # -- drawing -----------------------------------------------------------------------------------
    def _title(self) -> None:
        s = self.session
        line = Text.assemble(("Monitor ", "bold"), (f"{s.settings.env_name} ", "bold"), f"{s.settings.release}  ",
                             (f"window {self.window}", "bold cyan"))
        w = self._window
        if w is not None:
            line.append(f"  {w.progress} measured, {len(w.samples)} samples")
            if w.restarts:
                line.append(f", {w.restarts} restart{'s' if w.restarts > 1 else ''}", "yellow")
            failing = sum(1 for v in self.verdicts if v.state == FAIL)
            if failing:
                line.append(f"  {failing} failing", "bold red")
            elif self.verdicts and all(v.state == PASS for v in self.verdicts):
                line.append("  all passing", "bold green")
        if self.last_error:
            line.append(f"  scrape: {self.last_error}", "red")
        line.truncate(max(self.size.width - 2, 20), overflow="ellipsis")
        self.query_one("#monitor-title", Static).update(line)

    def on_resize(self) -> None:
        self._title()

    # -- keys ----------------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_next_window(self) -> None:
        names = list(self.spans)
        self.window = names[(names.index(self.window) + 1) % len(names)]
        self._title()
        self.refresh_verdicts(sample=False)

    def action_sample_now(self) -> None:
        self.refresh_verdicts(sample=self.live)

