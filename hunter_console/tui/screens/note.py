"""A small modal that asks for an optional note: for a sign-off, or for withdrawing one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from hunter_console.tui.widgets.keybar import KeyBar


class NoteModal(ModalScreen[str | None]):
    """Dismisses with the note ("" for none) on Enter or the confirm button; None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, heading: str, subject: Text, confirm: str, placeholder: str = "optional note",
                 *, variant: str = "primary", name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.heading = heading
        self.subject = subject
        self.confirm = confirm
        self.placeholder = placeholder
        self.variant = variant

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(self.subject, id="subject")
            yield Label("Note (optional), Enter to confirm, Esc to cancel:", classes="hint")
            yield Input(placeholder=self.placeholder, id="note")
            with Horizontal(classes="buttons"):
                yield Button(self.confirm, variant=self.variant, id="confirm")
                yield Button("Cancel", id="cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = escape(self.heading)
        note = self.query_one(Input)
        note.cursor_blink = getattr(self.app, "cursor_blink", True)
        note.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.dismiss(self.query_one(Input).value.strip())
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
