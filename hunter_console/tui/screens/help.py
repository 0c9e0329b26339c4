"""The key reference."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hunter_console.tui.widgets.keybar import KeyBar

KEYS: list[tuple[str, str]] = [
    ("↑ ↓  j k", "move in the focused pane"),
    ("Tab  Shift+Tab", "switch between sections and items"),
    ("← →  l", "sections pane / items pane"),
    ("Enter", "section: its items; item: detail (action: plan)"),
    ("i", "the highlighted item's detail (action items too)"),
    ("s", "sign off the highlighted item (optional note)"),
    ("w", "withdraw its sign-off (recorded, nothing deleted)"),
    ("d", "GO / NO-GO decision"),
    ("x", "action item: plan preview, then Run"),
    ("o", "output of the item's last run, or the running one"),
    ("r", "re-run the highlighted item's probe now"),
    ("R", "re-run every probe now (the whole sweep)"),
    ("Ctrl+R", "ROLLBACK from any screen: type the name, Enter"),
    ("1 2 3", "rollback database: none / downgrade / restore"),
    ("/  n", "output: find a line, next match"),
    ("G  End", "output: follow the tail again"),
    ("h", "audit history: Enter detail, o output, / search"),
    ("  f a e", "history: filters, output rows, release report"),
    ("m", "monitoring: metrics over windows; w window, r sample"),
    ("Esc", "back / cancel (an action keeps running)"),
    ("Ctrl+P", "command palette (jump to a section, ...)"),
    ("?", "this help"),
    ("q", "quit (running actions go on in their runner)"),
]


def key_table() -> Table:
    table = Table.grid(padding=(0, 2, 0, 0))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,enter", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog help"):
            with VerticalScroll():
                yield Static(key_table())
                yield Static(Text(
                    "\nGO is open when every required item is done, signed off, passing or run OK. "
                    "Every sign-off, decision and action goes to the audit log with who, "
                    "from where and when.",
                    style="dim",
                ))
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = "Keys"
        self.query_one("#dialog").border_subtitle = "Esc to close"

    def action_close(self) -> None:
        self.dismiss(None)
