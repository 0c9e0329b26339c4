"""The console app: owns the session, routes the operator's actions to it, refreshes on its events."""

from __future__ import annotations

from pathlib import Path
from typing import Collection

from rich.text import Text
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from hunter_console.events import ActionFinished, ActionStarted, ProbeResult
from hunter_console.session import ReleaseSession, SessionError
from hunter_console.tui.messages import SessionEvent
from hunter_console.tui.probes import LiveProbes
from hunter_console.tui.screens.checklist import ChecklistScreen
from hunter_console.tui.view import ReleaseSummary, item_label, title_text
from hunter_console.tui.widgets.items import ItemRow

ACTION_NAMES = ("backup", "migrate", "deploy", "verify", "rollback", "restore")

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
        # One key for the incident, on every screen, dialogs and text inputs included.
        Binding("ctrl+r", "rollback", "Rollback", priority=True),
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    state_version: reactive[int] = reactive(0)
    """Bumped on every session event; screens watch it and redraw what changed."""

    def __init__(self, session: ReleaseSession, *, cursor_blink: bool = True, probes: bool = True,
                 probe_items: Collection[str] | None = None, refresh_s: float = 1.0) -> None:
        super().__init__()
        self.session = session
        self.cursor_blink = cursor_blink  # tests pin it off so snapshots are stable
        self.refresh_s = refresh_s
        self.probes = LiveProbes(session, item_ids=probe_items, on_change=self._state_changed) if probes else None
        self.holder: str | None = None  # who holds the environment's action lock, in its words
        self._holder_run: int | None = None
        self._ended_runs: set[int] = set()
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
        self._report_interrupted()
        self._poll_log()
        self.set_interval(self.refresh_s, self._poll_log, name="audit-refresh")
        if self.probes is not None:
            self._run_probes()

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.probes is not None:
            await self.probes.close()

    @work(exclusive=True, group="probes", exit_on_error=False)
    async def _run_probes(self) -> None:
        await self.probes.run()

    async def start_action(self, name: str, **kwargs) -> ActionStarted:
        return await self.session.start_action(name, **kwargs)

    def _poll_log(self) -> None:
        """What other consoles and runners appended to the audit log, and who holds the lock."""
        try:
            self.session.refresh()
            holder = self.session.holder()
        except Exception as e:  # a locked or vanished audit db must not take the console down
            self.log.warning(f"audit refresh failed: {e}")
            return
        if holder is not None and holder.run_id in self._ended_runs:
            holder = None  # the runner recorded its end and is exiting
        described = holder.describe() if holder is not None else None
        if described != self.holder:
            self.holder = described
            self._holder_run = holder.run_id if holder is not None else None
            self._state_changed()

    @work(exclusive=True, group="reconcile", exit_on_error=False)
    async def _report_interrupted(self) -> None:
        """Runs whose runner died before recording an end: each reconciled against the real
        state (alembic current, the version serving), recorded, and told to the operator."""
        from hunter_console.reconcile import reconcile_all

        if not self.session.interrupted():
            return
        for run_id, found in await reconcile_all(self.session):
            self._say(f"run #{run_id} was interrupted: its runner died before recording an end. "
                      f"Reconciled: {found.get('verdict', 'unknown')}.",
                      title="Interrupted action", severity="warning", timeout=30)

    def _forward_session_event(self, event) -> None:
        # May be called from any thread: post, never touch widgets here.
        self.post_message(SessionEvent(event))

    def on_session_event(self, message: SessionEvent) -> None:
        event = message.event
        if isinstance(event, ProbeResult) and self.probes is not None:
            self.probes.answered(event.item_id)
        elif isinstance(event, ActionFinished):
            self._ended_runs.add(event.run_id)
            if self._holder_run == event.run_id:
                self.holder, self._holder_run = None, None  # its runner is on its way out
        self._state_changed()

    def _state_changed(self) -> None:
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
                              s.last_decision, self.holder)

    def item_row(self, item_id: str) -> ItemRow:
        """An item as the panes show it: PENDING while its probe is being asked."""
        state = self.session.state(item_id)
        probes = self.probes
        label = item_label(state.label, has_probe=state.item.probe is not None,
                           probing=probes is not None and probes.covers(item_id),
                           pending=probes is not None and item_id in probes.pending)
        return ItemRow(state, label)

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

    def open_item(self, item_id: str) -> None:
        """Enter on an item: an action item opens its plan (or its running action), others their detail."""
        item = self.session.state(item_id).item
        if item.action in ACTION_NAMES:
            self.action_run_item(item_id)
        else:
            self.open_detail(item_id)

    def action_run_item(self, item_id: str | None = None) -> None:
        """x: the highlighted action item's plan; Run there starts it. An item whose action runs
        now opens the running action instead (one action at a time per environment)."""
        item_id = item_id or self.current_item_id()
        if item_id is None:
            return
        state = self.session.state(item_id)
        action = state.item.action
        if action not in ACTION_NAMES:
            self._say("this item is not an action: sign it off (s) once checked", severity="warning")
            return
        if isinstance(state.action, ActionStarted):
            self.open_run(state.action.run_id)
            return
        if action == "rollback":
            self.action_rollback()
            return
        from hunter_console.tui.screens.plan import PlanModal

        def started(run: ActionStarted | None) -> None:
            if run is not None:
                self.open_run(run.run_id)

        self.push_screen(PlanModal(action, item_id), started)

    def action_output(self) -> None:
        """o: the output of the highlighted item's last run, or of the action running now."""
        item_id = self.current_item_id()
        run = self.session.state(item_id).action if item_id else None
        if run is None:
            running = self.session.running()
            run = running[-1] if running else None
        if run is None:
            self._say("no run to show: this item has not run, and nothing runs now", severity="warning")
            return
        self.open_run(run.run_id)

    def open_run(self, run_id: int, *, health: bool | None = None) -> None:
        """The action screen for a run, followed from its start (the audit log replays it)."""
        from hunter_console.tui.screens.action import ActionScreen

        self.push_screen(ActionScreen(run_id, health=health))

    def action_reprobe(self) -> None:
        """r: re-run the highlighted item's probe now."""
        item_id = self.current_item_id()
        if item_id is None:
            return
        if self.probes is None or not self.probes.covers(item_id):
            item = self.session.state(item_id).item
            self._say("this item has no probe: sign it off (s) once checked" if item.probe is None
                      else "the probes are not running yet", severity="warning")
            return
        self.probes.refresh([item_id])

    def action_sweep(self) -> None:
        """R: re-run every probe now."""
        if self.probes is None or self.probes.scheduler is None:
            self._say("the probes are not running yet", severity="warning")
            return
        started = self.probes.refresh()
        self._say(f"re-running {len(started)} probe(s)" if started else "every probe is already being re-run")

    def action_rollback(self) -> None:
        """ctrl+r, anywhere: the rollback screen (plan from the real state, typed confirmation)."""
        from hunter_console.tui.screens.rollback import RollbackScreen

        if isinstance(self.screen, RollbackScreen):
            return
        self._poll_log()  # who holds the environment right now, not up to a second ago
        self.push_screen(RollbackScreen())

    def jump_to_section(self, section_id: str) -> None:
        while not isinstance(self.screen, ChecklistScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        self.screen.jump_to_section(section_id)

    def action_history(self) -> None:
        """h: the audit history of this release on this environment (filters, detail, export)."""
        from hunter_console.tui.screens.history import HistoryScreen

        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen())

    def action_monitor(self) -> None:
        """m: post-deployment monitoring, the metrics over sliding windows against the seed's thresholds."""
        from hunter_console.tui.screens.monitor import MonitorScreen

        if not isinstance(self.screen, MonitorScreen):
            self.push_screen(MonitorScreen(self.session))

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


def make_app(session: ReleaseSession, *, cursor_blink: bool = True, probes: bool = True,
             probe_items: Collection[str] | None = None, refresh_s: float = 1.0) -> HunterConsole:
    """The one way to build the console, for the CLI and the tests alike.

    `probes`: run the probe scheduler (off in tests that pin what the panes show);
    `probe_items`: only these items' probes; `refresh_s`: how often the audit log is re-read.
    """
    return HunterConsole(session, cursor_blink=cursor_blink, probes=probes, probe_items=probe_items,
                         refresh_s=refresh_s)
