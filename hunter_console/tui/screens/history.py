"""The audit history: every event of this release on this environment, newest first, filtered.

Opening it reads one page (PAGE_ROWS rows); the next is read when the operator nears the end
(keyset paging, `before_id`: page 1000 costs what page 1 costs). The facets for the pickers and
the count (capped, "10,000+") are asked for in workers of their own, so the first page never
waits for them. Every read runs in a thread worker on a read connection of the screen's own and
comes back as a message; a new filter bumps a generation so late answers of the old one are
dropped. Rows recorded since (by this console, another one or a runner) are polled every
`app.refresh_s` and put at the top by key. Output and progress rows of runs are hidden unless
`a` shows them (or the kind picker asks for them).

Keys: Enter the event in full, o a run's output (replayed from the log), / search the messages,
f the filter pickers, a output rows, e the release report to a file, c default filters.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Select, Static
from textual.worker import get_current_worker

from hunter_console.audit import AuditLog
from hunter_console.history import Facets, HistoryCount, HistoryFilter
from hunter_console.tui import view
from hunter_console.tui.history_query import (PAGE_ROWS, Page, count_shown, head_id, load_newer, load_page, parse_when, reader,
                                              shows_hidden, write_report)
from hunter_console.tui.screens.event import run_of
from hunter_console.tui.widgets.header import ReleaseHeader
from hunter_console.tui.widgets.history_table import HistoryTable
from hunter_console.tui.widgets.keybar import KeyBar

PICKERS = (("release", "any release"), ("environment", "any env"), ("kind", "any kind"),
           ("operator", "anyone"), ("status", "any status"))


class HistoryScreen(Screen):
    AUTO_FOCUS = "#hist-table"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("o", "output", "Output"),
        Binding("slash", "search", "Search"),
        Binding("f", "filters", "Filter", show=False),
        Binding("a", "toggle_output", "Rows"),
        Binding("e", "export", "Export"),
        Binding("c", "clear", "Clear", show=False),
    ]

    # -- what the workers send back ------------------------------------------------------------
    class PageLoaded(Message):
        def __init__(self, generation: int, first: bool, page: Page) -> None:
            super().__init__()
            self.generation, self.first, self.page = generation, first, page

    class NewerLoaded(Message):
        def __init__(self, generation: int, head: int, events: list | None) -> None:
            super().__init__()
            self.generation, self.head, self.events = generation, head, events

    class Counted(Message):
        def __init__(self, generation: int, count: HistoryCount) -> None:
            super().__init__()
            self.generation, self.count = generation, count

    class FacetsLoaded(Message):
        def __init__(self, facets: Facets) -> None:
            super().__init__()
            self.facets = facets

    class Exported(Message):
        def __init__(self, path) -> None:
            super().__init__()
            self.path = path

    class ReadFailed(Message):
        def __init__(self, what: str, reason: str) -> None:
            super().__init__()
            self.what, self.reason = what, reason

    def __init__(self) -> None:
        super().__init__()
        session = self.app.session
        self.defaults = HistoryFilter(release=session.release, environment=session.environment)
        self.filters = self.defaults
        self.show_output = False
        self.count: HistoryCount | None = None
        self.facets: Facets | None = None
        self._generation = 0
        self._loading = False
        self._loaded = False  # the first page of the current filters is in
        self._next_before: int | None = None
        self._done = False
        self._head = 0

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ReleaseHeader(id="header")
        with Horizontal(id="hist-pickers", classes="hist-bar"):
            for name, prompt in PICKERS:
                value = getattr(self.defaults, name)
                options = [(value, value)] if value else []
                yield Select(options, prompt=prompt, value=value or Select.NULL, compact=True, id=f"hf-{name}",
                             classes="hist-picker")
        with Horizontal(id="hist-inputs", classes="hist-bar"):
            yield Input(placeholder="/ search the messages", compact=True, id="hf-text")
            yield Input(placeholder="since: 1h, 10:00", compact=True, id="hf-since", classes="hist-when")
            yield Input(placeholder="until", compact=True, id="hf-until", classes="hist-when")
            yield Label("", id="hist-count")
        yield HistoryTable(id="hist-table")
        yield Static(id="hist-status")
        yield KeyBar()

    def on_mount(self) -> None:
        blink = getattr(self.app, "cursor_blink", True)
        for field in self.query(Input):
            field.cursor_blink = blink
        table = self.query_one(HistoryTable)
        table.today = view.now().date()
        table.set_width(self.app.size.width)
        self.query_one(ReleaseHeader).summary = self.app.summary()
        self.watch(self.app, "state_version", self._on_state_change, init=False)
        self._reload()
        self.set_interval(getattr(self.app, "refresh_s", 1.0), self._poll_newer, name="history-newer")

    def on_resize(self, event) -> None:
        self.query_one(HistoryTable).set_width(event.size.width)

    def _on_state_change(self, _version: int) -> None:
        self.query_one(ReleaseHeader).summary = self.app.summary()
        self._poll_newer()  # something was recorded: show it now, not at the next tick

    # -- reading, in thread workers ----------------------------------------------------------------
    def _log(self) -> AuditLog:
        """A read connection for this worker alone: the page never waits behind a count."""
        return reader(self.app.session.audit.path)

    def _post(self, message: Message) -> None:
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load(self, generation: int, filters: HistoryFilter, before_id: int | None, show_output: bool) -> None:
        try:
            with self._log() as log:
                page = load_page(log, filters, before_id=before_id, show_output=show_output)
        except Exception as e:
            self._post(self.ReadFailed("history", str(e)))
            return
        self._post(self.PageLoaded(generation, before_id is None, page))

    @work(thread=True, exclusive=True, group="history-count", exit_on_error=False)
    def _count(self, generation: int, filters: HistoryFilter, show_output: bool, kinds: tuple[str, ...]) -> None:
        try:
            with self._log() as log:
                counted = count_shown(log, filters, show_output=show_output, kinds=kinds)
        except Exception as e:
            self._post(self.ReadFailed("count", str(e)))
            return
        self._post(self.Counted(generation, counted))

    @work(thread=True, exclusive=True, group="history-newer", exit_on_error=False)
    def _newer(self, generation: int, filters: HistoryFilter, newest_id: int, seen_head: int,
               show_output: bool) -> None:
        try:
            with self._log() as log:
                head = head_id(log)
                events = [] if head == seen_head else load_newer(log, filters, newest_id, show_output=show_output)
        except Exception as e:
            self._post(self.ReadFailed("new events", str(e)))
            return
        self._post(self.NewerLoaded(generation, head, events))

    @work(thread=True, exclusive=True, group="history-facets", exit_on_error=False)
    def _load_facets(self) -> None:
        from hunter_console.history import facets

        try:
            with self._log() as log:
                found = facets(log)
        except Exception as e:
            self._post(self.ReadFailed("filter values", str(e)))
            return
        self._post(self.FacetsLoaded(found))

    @work(thread=True, exclusive=True, group="history-export", exit_on_error=False)
    def _export(self) -> None:
        try:
            path = write_report(self.app.session, view.now())
        except Exception as e:
            self._post(self.ReadFailed("the release report", str(e)))
            return
        self._post(self.Exported(path))

    # -- asking --------------------------------------------------------------------------------------
    def _reload(self) -> None:
        """The first page of the current filters (a late answer for older filters is dropped)."""
        self._generation += 1
        self._loading, self._loaded, self._done, self._next_before = True, False, False, None
        self.count = None
        self._load(self._generation, self.filters, None, self.show_output)
        self._draw_status()  # the count is asked for once the first page is in: the page comes first

    def _recount(self) -> None:
        kinds = tuple(self.facets.kinds) if self.facets else ()
        self._count(self._generation, self.filters, self.show_output, kinds)

    def _load_more(self) -> None:
        if self._loading or self._done or not self._loaded:
            return
        self._loading = True
        self._load(self._generation, self.filters, self._next_before, self.show_output)
        self._draw_status()

    def _poll_newer(self) -> None:
        if self._loading or not self._loaded:
            return
        table = self.query_one(HistoryTable)
        self._newer(self._generation, self.filters, table.newest_id, self._head, self.show_output)

    # -- answers ----------------------------------------------------------------------------------
    def on_history_screen_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self._generation:
            return
        table = self.query_one(HistoryTable)
        page = message.page
        if message.first:
            table.reset(page.events)
            self._loaded = True
            self._recount()
            if self.facets is None:
                self._load_facets()
        else:
            table.append(page.events)
        self._next_before, self._done, self._loading = page.before_id, page.done, False
        self._draw_status()
        if not self._done and len(page.events) < PAGE_ROWS:  # a short page (hidden rows skipped): go on
            self.call_after_refresh(self._more_if_near_end)

    def _more_if_near_end(self) -> None:

        if self.query_one(HistoryTable).near_end():
            self._load_more()

    def on_history_screen_newer_loaded(self, message: NewerLoaded) -> None:
        if message.generation != self._generation or self._loading:
            return
        self._head = message.head
        if message.events is None:  # a flood since the last look: start again from the top
            self._reload()
        elif self.query_one(HistoryTable).prepend(message.events):
            self._recount()
            self._draw_status()

    def on_history_screen_counted(self, message: Counted) -> None:
        if message.generation == self._generation:
            self.count = message.count
            self._draw_status()

    def on_history_screen_facets_loaded(self, message: FacetsLoaded) -> None:
        self.facets = message.facets
        values = {"release": message.facets.releases, "environment": message.facets.environments,
                  "kind": message.facets.kinds, "operator": message.facets.operators,
                  "status": message.facets.statuses}
        for name, found in values.items():
            picker = self.query_one(f"#hf-{name}", Select)
            chosen = getattr(self.filters, name)
            options = sorted(set(found) | ({chosen} if chosen else set()))
            picker.set_options([(value, value) for value in options])
            picker.value = chosen if chosen else Select.NULL
            # the Changed messages this posts find the filters as they were: nothing reloads

    def on_history_screen_exported(self, message: Exported) -> None:
        self.app.notify(f"release report written to {message.path}", title="Release report", markup=False,
                        timeout=15)

    def on_history_screen_read_failed(self, message: ReadFailed) -> None:
        if message.what == "history":
            self._loading = False
        self.app.notify(f"could not read {message.what}: {message.reason}", severity="error", markup=False)

    def on_history_table_near_end(self, _message: HistoryTable.NearEnd) -> None:
        self._more_if_near_end()  # still near it now (the message may predate the last page)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        event = self.query_one(HistoryTable).events.get(int(message.row_key.value))
        if event is not None:
            from hunter_console.tui.screens.event import EventScreen

            self.app.push_screen(EventScreen(event))

    # -- the filters ---------------------------------------------------------------------------------
    def _read_filters(self) -> HistoryFilter | None:
        """The filters the bar shows; None (and a notification) when a time cannot be read."""
        picked = {}
        for name, _prompt in PICKERS:
            value = self.query_one(f"#hf-{name}", Select).value
            picked[name] = None if value == Select.NULL else value
        bounds = {}
        for name in ("since", "until"):
            text = self.query_one(f"#hf-{name}", Input).value
            try:
                bounds[name] = parse_when(text, view.now())
            except ValueError as e:
                self.app.notify(f"{name}: {e}", severity="warning", markup=False)
                return None
        text = self.query_one("#hf-text", Input).value.strip() or None
        return HistoryFilter(**picked, **bounds, text=text)

    def _apply(self) -> None:
        filters = self._read_filters()
        if filters is not None and filters != self.filters:
            self.filters = filters
            self._reload()

    def on_select_changed(self, message: Select.Changed) -> None:
        message.stop()
        self._apply()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        filters = self._read_filters()
        if filters is None:
            return
        if filters != self.filters:
            self.filters = filters
            self._reload()
        self.query_one(HistoryTable).focus()

    # -- the operator's keys -------------------------------------------------------------------------
    def action_back(self) -> None:
        focused = self.focused
        if focused is not None and not isinstance(focused, HistoryTable):
            self.query_one(HistoryTable).focus()  # out of the filter bar first
            return
        self.app.pop_screen()

    def action_search(self) -> None:
        self.query_one("#hf-text", Input).focus()

    def action_filters(self) -> None:
        self.query_one("#hf-kind", Select).focus()

    def action_toggle_output(self) -> None:
        self.show_output = not self.show_output
        self._reload()
        self.app.notify("output and progress rows shown" if self.show_output else "output and progress rows hidden",
                        timeout=3)

    def action_clear(self) -> None:
        for name, _prompt in PICKERS:
            default = getattr(self.defaults, name)
            self.query_one(f"#hf-{name}", Select).value = default if default else Select.NULL
        for field in self.query(Input):
            field.value = ""
        self.filters, self.show_output = self.defaults, False
        self._reload()

    def action_output(self) -> None:
        event = self.query_one(HistoryTable).current_event()
        run = run_of(event) if event is not None else None
        if run is None:
            self.app.notify("not a row of an action run: its output is on the run's rows (a shows them)",
                            severity="warning", markup=False)
            return
        from hunter_console.tui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(run))

    def action_export(self) -> None:
        self.app.notify(f"writing the release report of {self.app.session.release} on "
                        f"{self.app.session.environment}…", markup=False, timeout=3)
        self._export()

    # -- drawing ------------------------------------------------------------------------------------
    def _draw_status(self) -> None:
        count = self.query_one("#hist-count", Label)
        count.update(Text("counting…", style="dim") if self.count is None
                     else Text(f"{self.count} event{'' if self.count.n == 1 and not self.count.capped else 's'}",
                               style="bold"))
        table = self.query_one(HistoryTable)
        shown = table.row_count
        if not self._loaded:
            line = Text(" loading…", style="dim")
        elif not shown:
            line = Text(" no events match these filters", style="yellow")
        else:
            line = Text(f" {shown:,} loaded", style="dim")
            if self._loading:
                line.append(" · loading more…", style="dim")
            elif not self._done:
                line.append(" · more as you scroll", style="dim")
            else:
                line.append(" · the oldest is loaded", style="dim")
        hidden = not shows_hidden(self.filters, self.show_output)
        line.append(" · output rows hidden (a)" if hidden else " · output rows shown (a)", style="dim")
        self.query_one("#hist-status", Static).update(line)

