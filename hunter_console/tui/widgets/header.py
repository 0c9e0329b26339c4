"""The release header: what is being released where, by whom, and whether the gate is open."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hunter_console.tui.view import ReleaseSummary, origin, when


class ReleaseHeader(Widget):
    """Two lines: release, environment, operator@origin and the gate; then whoever runs an
    action on the environment now (`▶ running: migrate by alice …`), else the last decision."""

    DEFAULT_CSS = """
    ReleaseHeader { height: 2; padding: 0 1; }
    """

    summary: reactive[ReleaseSummary] = reactive(ReleaseSummary, layout=False)

    def render(self) -> Text:
        s = self.summary
        who = Text.assemble(
            ("Hunter ", "bold"),
            (s.release, "bold"),
            "  ",
            (s.environment, "reverse bold" if s.environment.startswith("prod") else "bold"),
            "  ",
            (origin(s.operator, s.host), ""),
        )
        if s.gate == "GO":
            gate = Text(" GO ", style="bold black on green")
        else:
            gate = Text.assemble((" NO-GO ", "bold white on red"), (f" {s.open_required} open", "bold red"))
        width = self.size.width or 78
        # The gate matters most: it keeps its place, the rest gives way.
        who.truncate(max(width - gate.cell_len - 1, 8), overflow="ellipsis")
        gap = max(1, width - who.cell_len - gate.cell_len)
        first = Text.assemble(who, " " * gap, gate)

        d = s.decision
        if s.holder:
            second = Text.assemble(("▶ running: ", "bold yellow"), (s.holder, "yellow"))
            second.truncate(width, overflow="ellipsis")
        elif d is None:
            second = Text("no decision recorded yet", style="dim")
        else:
            verdict = d.verdict.upper()
            second = Text.assemble(
                ("last decision ", "dim"),
                (verdict, "bold green" if d.verdict == "go" else "bold red"),
                (f" by {origin(d.operator, d.host)} at {when(d.ts)}", "dim"),
                (f": {d.reason}" if d.reason else "", ""),
            )
            second.truncate(width, overflow="ellipsis")
        return Text("\n").join([first, second])
