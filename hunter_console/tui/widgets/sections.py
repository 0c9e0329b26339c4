"""The sections pane: the checklist's sections as an indented outline, with a done count each."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hunter_console.tui.view import SectionRow


def section_prompt(row: SectionRow, done: int, total: int) -> Table:
    indent = " " * row.indent
    grid = Table.grid(expand=True)
    if row.section is None:
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_row(Text(f"{indent}{row.title}", style="dim"))
        return grid
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    count_style = "green" if done == total else ("yellow" if done else "")
    grid.add_row(Text(f"{indent}{row.title}"), Text(f" {done}/{total}", style=count_style))
    return grid


class SectionList(OptionList):
    """Sections with a `done/total` count; headings above them are shown but not selectable.

    Attributes down: the screen calls `set_rows` once and `set_counts` when state changes.
    It posts OptionList's own OptionHighlighted / OptionSelected messages up.
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, SectionRow] = {}
        self._counts: dict[str, tuple[int, int]] = {}

    def set_rows(self, rows: list[SectionRow], counts: dict[str, tuple[int, int]]) -> None:
        self._rows = {row.id: row for row in rows}
        self._counts = dict(counts)
        self.set_options(
            Option(section_prompt(row, *counts.get(row.id, (0, 0))), id=row.id, disabled=row.section is None)
            for row in rows
        )

    def set_counts(self, counts: dict[str, tuple[int, int]]) -> None:
        """Update only the sections whose count changed, in place."""
        for section_id, count in counts.items():
            if self._counts.get(section_id) != count and section_id in self._rows:
                self._counts[section_id] = count
                self.replace_option_prompt(section_id, section_prompt(self._rows[section_id], *count))

    @property
    def highlighted_section(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def highlight_section(self, section_id: str) -> None:
        self.highlighted = self.get_option_index(section_id)
