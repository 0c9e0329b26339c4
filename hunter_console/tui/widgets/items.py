"""The items pane: one section's items with a status badge, the title and the kind; a probe
item's last answer (its one-line reason and latency) on a dim line under its title."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hunter_console.session import ItemState
from hunter_console.tui.view import BADGE_WIDTH, badge, latency, title_text


@dataclass(frozen=True)
class ItemRow:
    """One item as the pane shows it: its state and the badge the screen chose for it."""

    state: ItemState
    label: str

    @property
    def key(self) -> tuple:
        """Changes exactly when the prompt would look different."""
        probe = self.state.probe
        return (self.label, self.state.item.required,
                (probe.reason, latency(probe.latency_ms)) if probe is not None else None)


def item_prompt(row: ItemRow) -> Table:
    state = row.state
    item = state.item
    title = title_text(item.title)
    if not item.required:
        title.append("  optional", style="dim italic")
    grid = Table.grid(expand=True, padding=(0, 1, 0, 0))
    grid.add_column(width=BADGE_WIDTH, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_column(width=6, justify="right", no_wrap=True)
    grid.add_row(badge(row.label), title, Text(item.kind.value, style="dim"))
    if state.probe is not None:
        reason = Text(state.probe.reason or "-", style="dim", no_wrap=True, overflow="ellipsis")
        grid.add_row("", reason, Text(latency(state.probe.latency_ms), style="dim"))
    return grid


class ItemList(OptionList):
    """The items of one section. Attributes down (`show`, `update_rows`); Enter posts
    OptionList.OptionSelected, which the screen turns into the detail screen (or, for an
    action item, its plan)."""

    BINDINGS = [
        Binding("enter", "select", "Open", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.section_id: str | None = None
        self._keys: dict[str, tuple] = {}

    def show(self, section_id: str, rows: list[ItemRow]) -> None:
        """Show a section's items, the highlight on the first."""
        if section_id == self.section_id:
            self.update_rows(rows)
            return
        self.section_id = section_id
        self._keys = {r.state.item.id: r.key for r in rows}
        self.set_options(Option(item_prompt(r), id=r.state.item.id) for r in rows)
        if rows:
            self.highlighted = 0

    def update_rows(self, rows: list[ItemRow]) -> None:
        """Redraw the items whose badge or probe answer changed, in place, keeping the highlight."""
        for row in rows:
            item_id = row.state.item.id
            if item_id in self._keys and self._keys[item_id] != row.key:
                self._keys[item_id] = row.key
                self.replace_option_prompt(item_id, item_prompt(row))

    @property
    def highlighted_item(self) -> str | None:
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id
