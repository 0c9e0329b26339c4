"""The plan preview: what an action would run, and where, before anything runs.

Run stays disabled until every condition the session would check is met on screen: the
environment's name typed exactly (production, or an incident action), and for a deploy, an
override reason typed over the gate's problems. Run starts the action (its start is audited
before the first side effect) and dismisses with the ActionStarted; a refusal stays on screen.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from hunter_console.events import ActionStarted
from hunter_console.session import SessionError
from hunter_console.tui.widgets.keybar import KeyBar


def plan_text(lines: list[str]) -> Text:
    return Text("\n".join(lines), no_wrap=False)


def gate_text(problems: list[str] | None) -> Text:
    if problems is None:
        return Text("checking the deploy gate (backup, schema at head)…", style="dim")
    if not problems:
        return Text("deploy gate: open (verified backup, schema at head)", style="green")
    text = Text("deploy gate: closed", style="bold red")
    for problem in problems:
        text.append(f"\n • {problem}", style="red")
    return text


class PlanModal(ModalScreen[ActionStarted | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, action: str, item_id: str | None = None, params: dict | None = None) -> None:
        super().__init__()
        self.action = action
        self.item_id = item_id
        self.params = dict(params or {})
        self.gate: list[str] | None = None  # None until the deploy gate answered
        self.starting = False

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        session = self.app.session
        env = session.settings.environment
        self.confirm_needed = session.needs_confirmation(self.action)
        try:
            lines = session.plan(self.action, self.params)
        except Exception as e:  # the plan must show even when a part of it is broken
            lines = [f"cannot plan {self.action}: {e}"]
        with Vertical(id="dialog", classes="dialog plan"):
            with VerticalScroll(id="plan-lines"):
                yield Static(plan_text(lines), id="plan-body")
            if self.action == "deploy":
                yield Static(gate_text(None), id="gate")
                yield Label("Override reason (only to deploy past a closed gate):", classes="hint")
                yield Input(placeholder="why it is safe to deploy anyway", id="override")
            if self.confirm_needed:
                why = "production" if env.production else "an incident action"
                yield Label(Text.assemble(("This is ", ""), (why, "bold"), (": type ", ""), (env.name, "bold"),
                                          (" to confirm:", "")), classes="hint")
                yield Input(placeholder=env.name, id="confirm")
            yield Static("", id="refusal")
            with Horizontal(classes="buttons"):
                yield Button("Run", variant="error" if self.confirm_needed else "primary", id="run",
                             disabled=True)
                yield Button("Cancel", id="cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        env = self.app.session.settings.environment
        where = f"{env.name} (PRODUCTION)" if env.production else env.name
        self.query_one("#dialog").border_title = escape(f"Run {self.action} on {where}")
        self.query_one("#dialog").border_subtitle = "Esc to cancel"
        for field in self.query(Input):
            field.cursor_blink = getattr(self.app, "cursor_blink", True)
        if self.action == "deploy":
            self._check_gate()
        self._update_run()
        inputs = list(self.query(Input))
        (inputs[-1] if inputs else self.query_one("#run", Button)).focus()

    # -- state -------------------------------------------------------------------------------
    @property
    def typed(self) -> str | None:
        return self.query_one("#confirm", Input).value if self.confirm_needed else None

    @property
    def override(self) -> str | None:
        if self.action != "deploy":
            return None
        return self.query_one("#override", Input).value.strip() or None

    @property
    def blocked(self) -> str | None:
        """Why Run is disabled, or None when it may run."""
        env = self.app.session.settings.environment
        if self.starting:
            return "starting…"
        if self.action == "deploy":
            if self.gate is None:
                return "waiting for the deploy gate"
            if self.gate and not self.override:
                return "the deploy gate is closed: type an override reason to deploy anyway"
        if self.confirm_needed and self.typed != env.name:
            return f"type {env.name} exactly to enable Run"
        return None

    def _update_run(self) -> None:
        self.query_one("#run", Button).disabled = self.blocked is not None

    @work(exclusive=True, group="deploy-gate", exit_on_error=False)
    async def _check_gate(self) -> None:
        try:
            problems = await self.app.session.deploy_gate()
        except Exception as e:
            problems = [f"the gate could not be checked: {e}"]
        self.gate = list(problems)
        self.query_one("#gate", Static).update(gate_text(self.gate))
        self._update_run()

    # -- the operator ------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_run()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter runs only when Run is enabled; otherwise it moves on.
        event.stop()
        if self.blocked is None:
            self.action_run()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "run":
            self.action_run()
        else:
            self.action_cancel()

    def action_run(self) -> None:
        reason = self.blocked
        if reason is not None:
            self.query_one("#refusal", Static).update(Text(reason, style="yellow"))
            return
        self.starting = True
        self._update_run()
        self.query_one("#refusal", Static).update(Text(f"starting {self.action}…", style="dim"))
        self._start()

    @work(exclusive=True, group="start-action", exit_on_error=False)
    async def _start(self) -> None:
        try:
            started = await self.app.start_action(
                self.action, item=self.item_id, params=self.params or None, confirm=self.typed,
                override=self.override)
        except SessionError as e:
            self.starting = False
            self.query_one("#refusal", Static).update(Text(f"refused: {e}", style="bold red"))
            self.notify(str(e), title=f"{self.action} refused", severity="error", markup=False)
            self._update_run()
            return
        self.dismiss(started)

    def action_cancel(self) -> None:
        if not self.starting:
            self.dismiss(None)
