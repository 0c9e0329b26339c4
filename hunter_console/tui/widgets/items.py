"""The items pane: one section's items with a status badge, the title and the kind."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hunter_console.session import ItemState
from hunter_console.tui.view import BADGE_WIDTH, badge, title_text


def item_prompt(state: ItemState) -> Table:
    item = state.item
    title = title_text(item.title)
    if not item.required:
        title.append("  optional", style="dim italic")
    grid = Table.grid(expand=True, padding=(0, 1, 0, 0))
    grid.add_column(width=BADGE_WIDTH, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_column(width=6, justify="right", no_wrap=True)
    grid.add_row(badge(state.label), title, Text(item.kind.value, style="dim"))
    return grid


class ItemList(OptionList):
    """The items of one section. Attributes down (`show`, `update_states`); Enter posts
    OptionList.OptionSelected, which the screen turns into the detail screen."""

    BINDINGS = [
        Binding("enter", "select", "Detail"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.section_id: str | None = None
        self._labels: dict[str, tuple[str, bool]] = {}

    def show(self, section_id: str, states: list[ItemState]) -> None:
        """Show a section's items, the highlight on the first."""
        if section_id == self.section_id:
            self.update_states(states)
            return
        self.section_id = section_id
        self._labels = {s.item.id: (s.label, s.item.required) for s in states}
        self.set_options(Option(item_prompt(s), id=s.item.id) for s in states)
        if states:
            self.highlighted = 0

    def update_states(self, states: list[ItemState]) -> None:
        """Redraw the items whose status changed, in place, keeping the highlight."""
        for state in states:
            key = (state.label, state.item.required)
            if state.item.id in self._labels and self._labels[state.item.id] != key:
                self._labels[state.item.id] = key
                self.replace_option_prompt(state.item.id, item_prompt(state))

    @property
    def highlighted_item(self) -> str | None:
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id
