"""The console app: owns the session, routes the operator's actions to it, refreshes on its events."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from hunter_console.session import ReleaseSession, SessionError
from hunter_console.tui.messages import SessionEvent
from hunter_console.tui.screens.checklist import ChecklistScreen
from hunter_console.tui.view import ReleaseSummary, title_text

# The dialogs, the detail screen and the command palette are imported when first opened:
# start-up pays only for the checklist screen (see PERFORMANCE.md).


def _console_commands():
    from hunter_console.tui.commands import ConsoleCommands

    return ConsoleCommands


def styles_dir() -> Path:
    """`styles/` at the repository top; in an installed wheel, `hunter_console/styles`."""
    here = Path(__file__).resolve()
    top = here.parents[2] / "styles"
    return top if top.is_dir() else here.parents[1] / "styles"


class HunterConsole(App):
    CSS_PATH = [styles_dir() / "console.tcss"]
    TITLE = "hunter-console"
    COMMANDS = App.COMMANDS | {_console_commands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    state_version: reactive[int] = reactive(0)
    """Bumped on every session event; screens watch it and redraw what changed."""

    def __init__(self, session: ReleaseSession, *, cursor_blink: bool = True) -> None:
        super().__init__()
        self.session = session
        self.cursor_blink = cursor_blink  # tests pin it off so snapshots are stable
        self._unsubscribe = None
        self._redraw_pending = False

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # In a dialog, q and ? are typed text or belong to the dialog: never quit from under it.
        if action in ("quit", "help") and self.screen.is_modal:
            return False
        return True

    def get_default_screen(self) -> Screen:
        return ChecklistScreen()

    def on_mount(self) -> None:
        self.sub_title = f"{self.session.release} on {self.session.environment}"
        self._unsubscribe = self.session.subscribe(self._forward_session_event)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _forward_session_event(self, event) -> None:
        # May be called from any thread: post, never touch widgets here.
        self.post_message(SessionEvent(event))

    def on_session_event(self, message: SessionEvent) -> None:
        # A burst of events (a probe sweep) redraws once: the bump runs after the queued events.
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_later(self._bump_state_version)

    def _bump_state_version(self) -> None:
        self._redraw_pending = False
        self.state_version += 1

    # -- what screens and widgets read ----------------------------------------------------------
    def summary(self) -> ReleaseSummary:
        s = self.session
        return ReleaseSummary(s.release, s.environment, s.operator, s.host, s.gate(), len(s.open_items()),
                              s.last_decision)

    def current_item_id(self) -> str | None:
        """The item the operator is on: the detail screen's, or the highlighted one."""
        for screen in reversed(self.screen_stack):
            item_id = getattr(screen, "current_item_id", None)
            if item_id:
                return item_id
        return None

    def _say(self, message: str, **kwargs) -> None:
        """A notification; titles and session messages are text, never markup."""
        self.notify(message.replace("`", ""), markup=False, **kwargs)

    # -- the operator's actions ----------------------------------------------------------------
    def open_detail(self, item_id: str) -> None:
        from hunter_console.tui.screens.detail import ItemDetailScreen

        self.push_screen(ItemDetailScreen(item_id))

    def jump_to_section(self, section_id: str) -> None:
        while not isinstance(self.screen, ChecklistScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        self.screen.jump_to_section(section_id)

    def action_help(self) -> None:
        from hunter_console.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_signoff(self) -> None:
        from hunter_console.tui.screens.note import NoteModal

        item_id = self.current_item_id()
        if item_id is None:
            return
        state = self.session.state(item_id)
        if state.signoff is not None:
            self._say(f"already signed off by {state.signoff.operator}; withdraw it first (w)", severity="warning")
            return

        def done(note: str | None) -> None:
            if note is None:
                return
            try:
                self.session.signoff(item_id, note)
            except SessionError as e:
                self._say(str(e), severity="error")
                return
            self._say(f"signed off: {state.item.title}", title="Sign-off recorded")

        subject = title_text(state.item.title, style="bold")
        self.push_screen(NoteModal("Sign off", subject, "Sign off", "what you checked (optional)"), done)

    def action_withdraw(self) -> None:
        from hunter_console.tui.screens.note import NoteModal

        item_id = self.current_item_id()
        if item_id is None:
            return
        state = self.session.state(item_id)
        if state.signoff is None:
            self._say("this item has no sign-off to withdraw", severity="warning")
            return

        def done(note: str | None) -> None:
            if note is None:
                return
            try:
                self.session.withdraw(item_id, note)
            except SessionError as e:
                self._say(str(e), severity="error")
                return
            self._say(f"sign-off withdrawn: {state.item.title}", title="Withdrawal recorded")

        subject = Text.assemble(
            ("Withdraw the sign-off of\n", "bold"), title_text(state.item.title),
            (f"\nsigned by {state.signoff.operator}. Recorded as a new event; nothing is deleted.", "dim"),
        )
        self.push_screen(NoteModal("Withdraw sign-off", subject, "Withdraw", "why it no longer holds (optional)",
                                   variant="warning"), done)

    def action_decide(self) -> None:
        from hunter_console.tui.screens.decision import DecisionModal, Verdict

        s = self.session

        def done(verdict: Verdict | None) -> None:
            if verdict is None:
                return
            try:
                decision = s.decide(verdict.verdict, verdict.reason)
            except SessionError as e:
                self._say(str(e), severity="error")
                return
            self._say(f"{decision.verdict.upper()} recorded for {s.release} on {s.environment}",
                        title="Decision recorded", severity="information" if decision.verdict == "go" else "warning")

        self.push_screen(DecisionModal(s.release, s.environment, s.open_items()), done)


def make_app(session: ReleaseSession, *, cursor_blink: bool = True) -> HunterConsole:
    """The one way to build the console, for the CLI and the tests alike."""
    return HunterConsole(session, cursor_blink=cursor_blink)
