"""One item in full: what it checks, its commands, the last probe result, who signed it off."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from hunter_console.tui.widgets.keybar import KeyBar
from hunter_console.session import ItemState
from hunter_console.events import ActionFinished
from hunter_console.tui.view import BADGE_STYLES, badge, duration, latency, origin, run_status, section_path, title_text, when
from hunter_console.tui.widgets.header import ReleaseHeader


def detail_body(state: ItemState, section_path: str) -> Group:
    """Who and what first (it must fit at 80x24), then what it checks and its commands."""
    item = state.item
    facts = Table.grid(padding=(0, 2, 0, 0))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    facts.add_row("status", Text(state.label, style=BADGE_STYLES.get(state.label, "bold")))
    facts.add_row("section", Text(section_path))
    kind = item.kind.value + (f" ({item.action})" if item.action else "") + (
        f" ({item.probe.kind})" if item.probe else "")
    facts.add_row("kind", Text(kind))
    facts.add_row("required", Text("yes" if item.required else "no (optional)"))

    signoff = state.signoff
    if signoff is None:
        facts.add_row("sign-off", Text("not signed off", style="dim"))
    else:
        facts.add_row("sign-off", Text.assemble((origin(signoff.operator, signoff.host), "bold"),
                                                f" ({signoff.host}) at {when(signoff.ts)}"))
        facts.add_row("note", Text(signoff.note or "-"))

    probe = state.probe
    if probe is None:
        facts.add_row("last probe", Text("no result yet" if item.probe else "not checked by a probe", style="dim"))
    else:
        facts.add_row("last probe", Text.assemble(badge(probe.status.value), " ", probe.reason))
        extra = [f"at {when(probe.ts)}", latency(probe.latency_ms)]
        if probe.value is not None:
            extra.insert(0, f"observed {probe.value}")
        facts.add_row("", Text(", ".join(extra), style="dim"))
    run = state.action
    if item.action:
        if run is None:
            facts.add_row("last run", Text("not run from this item yet: Enter or x shows its plan", style="dim"))
        else:
            status = run_status(run)
            line = Text.assemble(badge(status), f" run #{run.run_id} ")
            if isinstance(run, ActionFinished):
                line.append(f"in {duration(run.duration_s)}: {run.outcome.message}")
            else:
                line.append(f"by {origin(run.operator, run.host)} since {when(run.ts)}")
            facts.add_row("last run", line)
            facts.add_row("", Text("o shows its output", style="dim"))
    if item.done_before:
        facts.add_row("", Text("ticked in the checklist before this console saw it", style="green"))
    facts.add_row("id", Text(item.id, style="dim"))

    parts: list = [title_text(item.title, style="bold"), facts, Text("")]
    parts.append(Text("What it checks", style="bold underline"))
    parts.append(title_text(item.detail) if item.detail else Text("(no description in the checklist)", style="dim"))
    if item.commands:
        parts += [Text(""), Text("Commands", style="bold underline")]
        for command in item.commands:
            parts.append(Text(command, style="cyan"))
    return Group(*parts)


class ItemDetailScreen(Screen):
    """Pushed over the checklist; Escape goes back. Sign off and withdraw work here too."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "app.signoff", "Sign off"),
        Binding("w", "app.withdraw", "Withdraw", show=False),
        Binding("d", "app.decide", "Decide"),
        Binding("x", "app.run_item", "Run"),
        Binding("o", "app.output", "Output", show=False),
        Binding("r", "app.reprobe", "Probe"),
        Binding("j,down", "scroll('down')", "Scroll", show=False),
        Binding("k,up", "scroll('up')", "Scroll", show=False),
    ]

    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id

    @property
    def current_item_id(self) -> str:
        return self.item_id

    def compose(self) -> ComposeResult:
        yield ReleaseHeader(id="header")
        with VerticalScroll(id="detail"):
            yield Static(id="detail-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = "Item"
        self._refresh()
        self.watch(self.app, "state_version", lambda _v: self._refresh(), init=False)
        self.query_one("#detail").focus()

    def action_scroll(self, direction: str) -> None:
        scroller = self.query_one("#detail", VerticalScroll)
        if direction == "down":
            scroller.scroll_down()
        else:
            scroller.scroll_up()

    def _refresh(self) -> None:
        session = self.app.session
        section = session.checklist.section_of(self.item_id)
        path = section_path(session.checklist, section)
        self.query_one("#detail-body", Static).update(detail_body(session.state(self.item_id), path))
        self.query_one(ReleaseHeader).summary = self.app.summary()
