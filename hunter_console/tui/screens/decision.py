"""The GO / NO-GO decision: what is still open, a reason, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from hunter_console.tui.widgets.keybar import KeyBar
from hunter_console.checklist.model import Item
from hunter_console.tui.view import title_text


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "go" or "no-go"
    reason: str


def open_items_table(items: list[Item]) -> Table | Text:
    if not items:
        return Text("All required items are satisfied.", style="green")
    grid = Table.grid(padding=(0, 1, 0, 0), expand=True)
    grid.add_column(width=1, style="red")
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    for item in items:
        grid.add_row("•", title_text(item.title))
    return grid


class DecisionModal(ModalScreen[Verdict | None]):
    """GO over open required items needs a typed reason: the GO button stays disabled, and
    `action_go` refuses, until there is one. NO-GO takes an optional reason."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, release: str, environment: str, open_items: list[Item]) -> None:
        super().__init__()
        self.release = release
        self.environment = environment
        self.open_items = list(open_items)

    def compose(self) -> ComposeResult:
        n = len(self.open_items)
        with Vertical(id="dialog", classes="dialog"):
            if n:
                yield Label(Text.assemble((f"{n} required item{'s' if n != 1 else ''} not satisfied:", "bold red")))
            with VerticalScroll(id="open-items"):
                yield Static(open_items_table(self.open_items))
            yield Label(
                "Reason (required for GO over open items), then Tab to a verdict:" if n
                else "Reason (optional), then Tab to a verdict:",
                classes="hint",
            )
            yield Input(placeholder="why this verdict", id="reason")
            with Horizontal(classes="buttons"):
                yield Button("NO-GO", variant="error", id="no-go")
                yield Button("GO", variant="success", id="go", disabled=bool(n))
                yield Button("Cancel", id="cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = escape(f"Decision: {self.release} on {self.environment}")
        reason = self.query_one(Input)
        reason.cursor_blink = getattr(self.app, "cursor_blink", True)
        reason.focus()

    @property
    def reason(self) -> str:
        return self.query_one("#reason", Input).value.strip()

    @property
    def go_allowed(self) -> bool:
        return not self.open_items or bool(self.reason)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#go", Button).disabled = not self.go_allowed

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter never records a verdict by itself: it moves on to the buttons.
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "go":
            self.action_go()
        elif event.button.id == "no-go":
            self.action_no_go()
        else:
            self.action_cancel()

    def action_go(self) -> None:
        if not self.go_allowed:
            n = len(self.open_items)
            self.notify(f"GO over {n} open required item(s) needs a typed reason", severity="error", markup=False)
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(Verdict("go", self.reason))

    def action_no_go(self) -> None:
        self.dismiss(Verdict("no-go", self.reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
