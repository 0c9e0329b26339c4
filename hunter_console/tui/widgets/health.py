"""The target's health: the latest answer of each /healthz/* probe item, one line each.

A re-run keeps the last answer on screen until the new one arrives (no flicker to PENDING)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hunter_console.events import ProbeResult
from hunter_console.tui.view import badge


@dataclass(frozen=True)
class HealthRow:
    path: str  # /healthz/ready
    result: ProbeResult | None


class HealthPanel(Widget):
    """Attributes down: the screen sets `rows` whenever the session's state changes."""

    DEFAULT_CSS = """
    HealthPanel { height: auto; border: round $panel-lighten-2; padding: 0 1; }
    """

    rows: reactive[tuple[HealthRow, ...]] = reactive(tuple, layout=True)

    def render(self) -> Table | Text:
        if not self.rows:
            return Text("no /healthz probe in this checklist", style="dim")
        grid = Table.grid(expand=True, padding=(0, 1, 0, 0))
        grid.add_column(width=7, no_wrap=True)
        grid.add_column(width=16, no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for row in self.rows:
            result = row.result
            if result is None:
                grid.add_row(badge("PENDING"), Text(row.path), Text("no answer yet", style="dim"))
                continue
            # The reason says how long an HTTP answer took ("answered 200 in 12 ms").
            grid.add_row(badge(result.status.value), Text(row.path), Text(result.reason))
        return grid
