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
    ("← →  h l", "sections pane / items pane"),
    ("Enter", "section: go to its items; item: open its detail"),
    ("s", "sign off the highlighted item (optional note)"),
    ("w", "withdraw its sign-off (recorded, nothing deleted)"),
    ("d", "GO / NO-GO decision"),
    ("Esc", "back / cancel"),
    ("Ctrl+P", "command palette (jump to a section, ...)"),
    ("?", "this help"),
    ("q", "quit"),
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
                    "\nGO is open when every required item is done, signed off or passing. "
                    "Every sign-off, withdrawal and decision goes to the audit log with who, "
                    "from where and when.",
                    style="dim",
                ))
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = "Keys"
        self.query_one("#dialog").border_subtitle = "Esc to close"

    def action_close(self) -> None:
        self.dismiss(None)
