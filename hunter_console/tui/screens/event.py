"""One audit event in full: every field, its detail pretty-printed, its place in the hash chain."""

from __future__ import annotations

from rich.console import Group
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from hunter_console.audit import AuditEvent
from hunter_console.tui.view import origin
from hunter_console.tui.widgets.header import ReleaseHeader
from hunter_console.tui.widgets.history_table import STATUS_STYLES
from hunter_console.tui.widgets.keybar import KeyBar


def run_of(event: AuditEvent) -> int | None:
    """The run an action row belongs to: its own id for the start, detail["run"] for the rest."""
    if event.kind == "action.start":
        return event.id
    run = event.detail.get("run") if isinstance(event.detail, dict) else None
    return run if isinstance(run, int) and not isinstance(run, bool) and run > 0 else None


def short_hash(value: str) -> str:
    return f"{value[:12]}…{value[-4:]}" if len(value) > 20 else value


def event_body(event: AuditEvent) -> Group:
    facts = Table.grid(padding=(0, 2, 0, 0))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    facts.add_row("time", Text(f"{event.ts[:10]} {event.ts[11:26]} UTC"))
    facts.add_row("release", Text(f"{event.release} on {event.environment}"))
    facts.add_row("who", Text.assemble((origin(event.operator, event.host), "bold"), (f"  ({event.host})", "dim")))
    facts.add_row("kind", Text(event.kind, style="bold"))
    if event.item:
        facts.add_row("item", Text(event.item))
    if event.action:
        facts.add_row("action", Text(event.action, style="cyan"))
    if event.status:
        facts.add_row("status", Text(event.status, style=STATUS_STYLES.get(event.status.lower(), "bold")))
    run = run_of(event)
    if run is not None:
        facts.add_row("run", Text.assemble(f"#{run}  ", ("o replays its output", "dim")))
    facts.add_row("hash", Text(f"{short_hash(event.hash)}  (previous {short_hash(event.prev_hash)})", style="dim"))
    parts: list = [facts, Text(""), Text("Message", style="bold underline"), Text(event.message or "(empty)")]
    if event.detail:
        parts += [Text(""), Text("Detail", style="bold underline"), JSON.from_data(event.detail, indent=2)]
    return Group(*parts)


class EventScreen(Screen):
    """Pushed over the history; Escape goes back."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("o", "output", "Output"),
        Binding("j,down", "scroll('down')", "Scroll", show=False),
        Binding("k,up", "scroll('up')", "Scroll", show=False),
    ]

    def __init__(self, event: AuditEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        yield ReleaseHeader(id="header")
        with VerticalScroll(id="detail"):
            yield Static(event_body(self.event), id="detail-body")
        yield KeyBar()

    def on_mount(self) -> None:
        scroller = self.query_one("#detail")
        scroller.border_title = f"Audit event #{self.event.id}"
        scroller.focus()
        self.query_one(ReleaseHeader).summary = self.app.summary()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "output":
            return run_of(self.event) is not None or None  # shown dimmed on rows without a run
        return True

    def action_output(self) -> None:
        from hunter_console.tui.screens.replay import ReplayScreen

        run = run_of(self.event)
        if run is not None:
            self.app.push_screen(ReplayScreen(run))

    def action_scroll(self, direction: str) -> None:
        scroller = self.query_one("#detail", VerticalScroll)
        scroller.scroll_down() if direction == "down" else scroller.scroll_up()
