"""One action run: who runs what where, its progress, its output as it is recorded, its outcome.

The run lives in a runner process of its own; this screen only follows its rows in the audit
log (`session.follow(run_id)` replays from the start), so Escape leaves it running and opening
the screen again shows everything from the beginning.

Output is fed in batches: the follow worker appends lines to a buffer, and a timer flushes it
into the Log every FLUSH_S with one `write_lines` (PERFORMANCE.md: never line by line). The Log
follows the tail only while the operator is at the bottom; End or G goes back to following.
For a rollback, the target's health (the /healthz/* probe items) stays on screen under the log
and is re-probed every HEALTH_S while the rollback runs.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Label, ProgressBar, Static

from hunter_console.events import ActionFinished, ActionStarted, LogLine, Progress
from hunter_console.tui.view import badge, health_path, origin, outcome_text, run_status
from hunter_console.tui.widgets.header import ReleaseHeader
from hunter_console.tui.widgets.health import HealthPanel, HealthRow
from hunter_console.tui.widgets.keybar import KeyBar
from hunter_console.tui.widgets.output import OutputLog

FLUSH_S = 0.08  # how often buffered output reaches the screen
MAX_LINES = 10_000  # kept on screen; the full output stays in the audit log
HEALTH_S = 2.0  # how often a running rollback re-probes the target's health
YIELD_EVERY = 500  # events replayed before giving the UI a turn


def health_rows(app) -> tuple[HealthRow, ...]:
    """The /healthz/* probe items' latest answers, one per path, in checklist order."""
    rows, seen = [], set()
    for item in app.session.checklist.items():
        path = health_path(item)
        if path is None or path in seen:
            continue
        seen.add(path)
        rows.append(HealthRow(path, app.session.state(item.id).probe))
    return tuple(rows)


def health_item_ids(app) -> list[str]:
    ids, seen = [], set()
    for item in app.session.checklist.items():
        path = health_path(item)
        if path is not None and path not in seen:
            seen.add(path)
            ids.append(item.id)
    return ids


class ActionScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("n", "search_next", "Next", show=False),
        Binding("G,end", "follow", "Follow"),
        Binding("j", "scroll('down')", "Scroll", show=False),
        Binding("k", "scroll('up')", "Scroll", show=False),
        Binding("g,home", "top", "Top", show=False),
    ]

    def __init__(self, run_id: int, *, health: bool | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.health = health  # None: shown when the run turns out to be a rollback
        self.started: ActionStarted | None = None
        self.finished: ActionFinished | None = None
        self.progress: Progress | None = None
        self._buffer: list[str] = []
        self._dirty = True
        self._match: int | None = None  # the line the last search found
        self._query = ""

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ReleaseHeader(id="header")
        yield Static(id="run-title")
        with Horizontal(id="run-progress"):
            yield ProgressBar(show_eta=False, id="run-bar")
            yield Label(id="run-step")
        yield OutputLog(max_lines=MAX_LINES, id="run-log")
        yield HealthPanel(id="health")
        yield Static(id="run-outcome")
        yield Input(placeholder="find in the output (Enter: next match, Esc: close)", id="search")
        yield Static(id="run-follow")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#run-log", OutputLog).border_title = "Output"
        self.query_one("#health", HealthPanel).border_title = "Target health"
        self.query_one("#search", Input).cursor_blink = getattr(self.app, "cursor_blink", True)
        self.query_one("#run-log", OutputLog).focus()
        self._refresh_state()
        self.watch(self.app, "state_version", lambda _v: self._refresh_state(), init=False)
        self.set_interval(FLUSH_S, self._flush, name="output-flush")
        self.set_interval(HEALTH_S, self._probe_health, name="health-probe")
        self._follow()
        self._flush()

    # -- following the run -------------------------------------------------------------------
    @work(exclusive=True, group="follow", exit_on_error=False)
    async def _follow(self) -> None:
        count = 0
        async for event in self.app.session.follow(self.run_id):
            if isinstance(event, LogLine):
                self._buffer.append(event.text)
            elif isinstance(event, Progress):
                self.progress = event
            elif isinstance(event, ActionStarted):
                self.started = event
            elif isinstance(event, ActionFinished):
                self.finished = event
            self._dirty = True
            count += 1
            if count % YIELD_EVERY == 0:  # a long replay: let keys and paints through
                await asyncio.sleep(0)
        if self.is_health_shown:
            self._probe_health(force=True)

    def _flush(self) -> None:
        """Move the buffered lines to the Log in one write, and redraw what changed."""
        log = self.query_one("#run-log", OutputLog)
        if self._buffer:
            lines, self._buffer = self._buffer, []
            log.append(lines)  # one write a batch; follows the tail only while the operator lets it
        if self._dirty:
            self._dirty = False
            self._draw()
        self._draw_follow(log)

    @property
    def is_health_shown(self) -> bool:
        if self.health is not None:
            return self.health
        return self.started is not None and self.started.action == "rollback"

    def _draw(self) -> None:
        start = self.started
        env = start.environment if start is not None else self.app.session.environment  # the run's own
        status = run_status(self.finished or start)
        what = Text.assemble(
            badge(status), " ",
            (start.action if start else "action", "bold"), f" on {env} · run #{self.run_id}",
        )
        if start is not None:
            what.append(f" · {origin(start.operator, start.host)} · started {start.ts:%H:%M:%S} UTC", style="dim")
        what.truncate(max(self.size.width, 20), overflow="ellipsis")
        self.query_one("#run-title", Static).update(what)

        p = self.progress
        bar_row = self.query_one("#run-progress")
        bar_row.display = p is not None and bool(p.total)
        if p is not None and p.total:
            self.query_one("#run-bar", ProgressBar).update(total=p.total, progress=p.done)
            unit = f" {p.unit}" if p.unit else ""
            self.query_one("#run-step", Label).update(
                Text(f" {p.done:g}/{p.total:g}{unit}  {p.message}", no_wrap=True, overflow="ellipsis"))

        outcome = self.query_one("#run-outcome", Static)
        outcome.display = self.finished is not None
        if self.finished is not None:
            outcome.update(outcome_text(self.finished))
        health = self.query_one("#health", HealthPanel)
        health.display = self.is_health_shown
        if self.is_health_shown:
            health.rows = health_rows(self.app)

    def _draw_follow(self, log: OutputLog) -> None:
        if self._match is not None:
            return
        lines = log.line_count
        if log.following:
            text = Text(f" following the tail · {lines} line(s)", style="dim")
        else:
            text = Text(f" paused at line {log.scroll_offset.y + 1} of {lines} · End or G to follow",
                        style="yellow")
        self.query_one("#run-follow", Static).update(text)

    def _refresh_state(self) -> None:
        self.query_one(ReleaseHeader).summary = self.app.summary()
        if self.is_health_shown:
            self.query_one("#health", HealthPanel).rows = health_rows(self.app)

    def _probe_health(self, force: bool = False) -> None:
        """While a rollback runs (and once after it ends), ask the target's health again."""
        probes = getattr(self.app, "probes", None)
        if probes is None or not self.is_health_shown or (self.finished is not None and not force):
            return
        probes.refresh(health_item_ids(self.app))

    # -- the operator ------------------------------------------------------------------------
    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.display and search.has_focus:
            self._close_search()
            return
        self.app.pop_screen()

    def action_follow(self) -> None:
        self._match = None
        log = self.query_one("#run-log", OutputLog)
        log.follow()
        self._draw_follow(log)

    def action_top(self) -> None:
        self.query_one("#run-log", OutputLog).action_scroll_home()

    def action_scroll(self, direction: str) -> None:
        log = self.query_one("#run-log", OutputLog)
        log.action_scroll_down() if direction == "down" else log.action_scroll_up()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    def _close_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = False
        self.query_one("#run-log", OutputLog).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._query = event.value.strip()
        self.action_search_next()

    def action_search_next(self) -> None:
        """Jump to the next line containing the search text (case-insensitive), wrapping."""
        query = self._query.lower()
        if not query:
            return
        log = self.query_one("#run-log", OutputLog)
        lines = log.lines
        start = (self._match + 1) if self._match is not None else log.scroll_offset.y
        found = None
        for offset in range(len(lines)):
            index = (start + offset) % len(lines)
            if query in lines[index].lower():
                found = index
                break
        status = self.query_one("#run-follow", Static)
        if found is None:
            self._match = None
            status.update(Text(f" no line contains {self._query!r}", style="yellow"))
            return
        self._match = found
        log.unfollow()
        log.scroll_to(y=max(0, found - 2), animate=False, immediate=True)
        status.update(Text.assemble((f" line {found + 1}: ", "bold"), (lines[found], ""),
                                    no_wrap=True, overflow="ellipsis"))
