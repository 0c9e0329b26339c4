"""The incident rollback: ctrl+r from anywhere, the plan from the real state, the environment's
name typed, Enter. Nothing else stands between the operator and the first side effect.

The plan (`session.rollback_plan()`, bounded in time) loads in a worker and never blocks the
screen: the operator can type the name and press Enter before it arrives (database: none).
The database choice is a RadioSet (or 1, 2, 3 when it has focus; Tab reaches it); choices the
plan rules out are disabled with the reason. A wrong name runs nothing and records nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from hunter_console.session import RollbackPlan, SessionError
from hunter_console.tui.view import backup_choice, backup_facts
from hunter_console.tui.widgets.header import ReleaseHeader
from hunter_console.tui.widgets.keybar import KeyBar

CHOICES = ("none", "downgrade", "restore")


def app_step(plan: RollbackPlan | None) -> Text:
    if plan is None:
        return Text("reading the real state (executor, audit log)…", style="dim")
    if plan.app:
        return Text(plan.app)
    return Text(f"cannot roll the app back: {plan.app_error}", style="bold red")


def choice_label(choice: str, plan: RollbackPlan | None) -> Text:
    unavailable = plan.options().get(choice) if plan is not None else None
    if choice == "none":
        text = Text.assemble(("1 ", "bold"), "none: leave the database as it is")
    elif choice == "downgrade":
        target = plan.downgrade_to if plan is not None and plan.downgrade_to else "the revision before migrate"
        text = Text.assemble(("2 ", "bold"), f"downgrade to {target}")
        if plan is not None and not unavailable:
            text.append(" (a downgrade can drop data)", style="yellow")
    else:
        if plan is not None and plan.backup:
            text = Text.assemble(("3 ", "bold"), backup_choice(plan.backup))
        else:
            text = Text.assemble(("3 ", "bold"), "restore this release's verified backup")
    if plan is None and choice != "none":
        text.append(" (waiting for the plan)", style="dim")
    elif unavailable:
        text.append(f": unavailable, {unavailable}", style="dim")
    return text


def backup_text(plan: RollbackPlan | None) -> Text:
    if plan is None or not plan.backup:
        return Text("no verified backup of this release to restore", style="dim")
    return Text(backup_facts(plan.backup), style="dim")


def holder_text(plan: RollbackPlan | None) -> Text:
    if plan is None or plan.holder is None:
        return Text("nothing else runs on this environment now", style="dim")
    return Text.assemble(("▶ ", "bold yellow"), (plan.holder.describe(), "yellow"),
                         (": their action will be stopped first", "bold yellow"))


class RollbackScreen(Screen):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("1", "choose('none')", "None", show=False),
        Binding("2", "choose('downgrade')", "Downgrade", show=False),
        Binding("3", "choose('restore')", "Restore", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan: RollbackPlan | None = None
        self.starting = False

    @property
    def environment(self) -> str:
        return self.app.session.environment

    def compose(self) -> ComposeResult:
        env = self.environment
        yield ReleaseHeader(id="header")
        with VerticalScroll(id="rollback"):
            yield Static(id="rb-app")
            with RadioSet(id="rb-db"):
                for index, choice in enumerate(CHOICES):
                    yield RadioButton(choice_label(choice, None), value=index == 0, id=f"db-{choice}",
                                      disabled=choice != "none")
            yield Static(id="rb-backup")
            yield Static(id="rb-holder")
            yield Label(Text.assemble(("Type ", ""), (env, "bold"), (" and press Enter to roll back", "")),
                        classes="hint")
            yield Input(placeholder=env, id="rb-confirm")
            yield Static(id="rb-status")
        yield KeyBar()

    def on_mount(self) -> None:
        box = self.query_one("#rollback")
        box.border_title = f"ROLLBACK {self.environment}"
        box.border_subtitle = "Tab: database choice · Esc: cancel"
        self.query_one("#rb-db").border_title = "database"
        confirm = self.query_one("#rb-confirm", Input)
        confirm.cursor_blink = getattr(self.app, "cursor_blink", True)
        confirm.focus()
        self.query_one(ReleaseHeader).summary = self.app.summary()
        self.watch(self.app, "state_version", self._on_state, init=False)
        self._draw()
        self._load_plan()

    @work(exclusive=True, group="rollback-plan", exit_on_error=False)
    async def _load_plan(self) -> None:
        plan = await self.app.session.rollback_plan()
        self.plan = plan
        self._draw()

    def _on_state(self, _version: int) -> None:
        self.query_one(ReleaseHeader).summary = self.app.summary()

    def _draw(self) -> None:
        plan = self.plan
        self.query_one("#rb-app", Static).update(Text.assemble(("app       ", "dim"), app_step(plan)))
        options = plan.options() if plan is not None else {}
        for choice in CHOICES:
            button = self.query_one(f"#db-{choice}", RadioButton)
            button.label = choice_label(choice, plan)
            button.disabled = choice != "none" and (plan is None or options.get(choice) is not None)
        self.query_one("#rb-backup", Static).update(backup_text(plan))
        self.query_one("#rb-holder", Static).update(holder_text(plan))

    @property
    def choice(self) -> str:
        pressed = self.query_one("#rb-db", RadioSet).pressed_button
        return pressed.id.removeprefix("db-") if pressed is not None and pressed.id else "none"

    def action_choose(self, choice: str) -> None:
        button = self.query_one(f"#db-{choice}", RadioButton)
        if button.disabled:
            self._status(f"{choice} is not available: see why next to it", "yellow")
            return
        button.value = True

    def action_cancel(self) -> None:
        if not self.starting:
            self.app.pop_screen()

    def _status(self, message: str, style: str) -> None:
        self.query_one("#rb-status", Static).update(Text(message, style=style))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.starting:
            return
        typed = event.value.strip()
        if typed != self.environment:
            self._status(f"type {self.environment} exactly to roll back: nothing ran", "bold yellow")
            return
        self.starting = True
        self.query_one("#rb-confirm", Input).disabled = True
        self._status(f"starting the rollback of {self.environment} (database: {self.choice})…", "bold")
        self._start(typed, self.choice)

    @work(exclusive=True, group="rollback-start", exit_on_error=False)
    async def _start(self, typed: str, choice: str) -> None:
        session = self.app.session
        item = next((i.id for i in session.checklist.items() if i.action == "rollback"), None)
        try:
            started = await self.app.start_action("rollback", item=item, params={"db": choice}, confirm=typed)
        except SessionError as e:
            self.starting = False
            confirm = self.query_one("#rb-confirm", Input)
            confirm.disabled = False
            confirm.focus()
            self._status(f"refused: {e}", "bold red")
            self.notify(str(e), title="rollback refused", severity="error", markup=False)
            return
        from hunter_console.tui.screens.action import ActionScreen

        self.app.switch_screen(ActionScreen(started.run_id, health=True))
