"""The main screen: header, sections pane on the left, the chosen section's items on the right."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import OptionList

from hunter_console.tui.widgets.keybar import KeyBar
from hunter_console.tui.view import section_rows
from hunter_console.tui.widgets.header import ReleaseHeader
from hunter_console.tui.widgets.items import ItemList, ItemRow
from hunter_console.tui.widgets.sections import SectionList


class ChecklistScreen(Screen):
    AUTO_FOCUS = "#items"
    BINDINGS = [
        Binding("s", "app.signoff", "Sign off"),
        Binding("w", "app.withdraw", "Withdraw", show=False),
        Binding("d", "app.decide", "Decide"),
        Binding("x", "app.run_item", "Run"),
        Binding("o", "app.output", "Output", show=False),
        Binding("i", "detail", "Detail", show=False),
        Binding("r", "app.reprobe", "Probe"),
        Binding("R", "app.sweep", "Sweep"),
        Binding("h", "app.history", "History", show=False),
        Binding("m", "app.monitor", "Monitor", show=False),
        Binding("left", "focus_sections", "Sections", show=False),
        Binding("right,l", "focus_items", "Items", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield ReleaseHeader(id="header")
        with Horizontal(id="panes"):
            yield SectionList(id="sections")
            yield ItemList(id="items")
        yield KeyBar()

    def on_mount(self) -> None:
        session = self.app.session
        sections = self.query_one(SectionList)
        sections.border_title = "Sections"
        sections.set_rows(section_rows(session.checklist), self._counts())
        first = next((s for s in session.checklist.sections if s.items), None)
        if first is not None:
            sections.highlight_section(first.id)
            self._show_section(first.id)
        self._refresh_header()
        self.watch(self.app, "state_version", self._on_state_change, init=False)

    # -- what the app asks of the screen -----------------------------------------------------
    @property
    def current_item_id(self) -> str | None:
        # Keys typed ahead (a slow link delivers them in one read) can arrive before the pane
        # has heard that the section changed: the item acted on is always in the section shown
        # as highlighted.
        section_id = self.query_one(SectionList).highlighted_section
        items = self.query_one(ItemList)
        if section_id is not None and section_id != items.section_id and not section_id.startswith("heading-"):
            self._show_section(section_id)
        return items.highlighted_item

    def jump_to_section(self, section_id: str) -> None:
        self.query_one(SectionList).highlight_section(section_id)
        self._show_section(section_id)
        self.query_one(ItemList).focus()

    # -- messages from the panes -------------------------------------------------------------
    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "sections" and event.option_id:
            self._show_section(event.option_id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "sections":
            self.query_one(ItemList).focus()
        elif event.option_id:
            self.app.open_item(event.option_id)

    def action_detail(self) -> None:
        """i: the highlighted item's detail, for action items too (Enter opens their plan)."""
        item_id = self.current_item_id
        if item_id is not None:
            self.app.open_detail(item_id)

    def action_focus_sections(self) -> None:
        self.query_one(SectionList).focus()

    def action_focus_items(self) -> None:
        self.query_one(ItemList).focus()

    # -- state -------------------------------------------------------------------------------
    def _on_state_change(self, _version: int) -> None:
        self.query_one(SectionList).set_counts(self._counts())
        items = self.query_one(ItemList)
        if items.section_id is not None:
            items.update_rows(self._rows(items.section_id))
        self._refresh_header()

    def _show_section(self, section_id: str) -> None:
        section = next(s for s in self.app.session.checklist.sections if s.id == section_id)
        items = self.query_one(ItemList)
        items.show(section_id, self._rows(section_id))
        items.border_title = escape(section.title.replace("`", ""))

    def _rows(self, section_id: str) -> list[ItemRow]:
        section = next(s for s in self.app.session.checklist.sections if s.id == section_id)
        return [self.app.item_row(item.id) for item in section.items]

    def _counts(self) -> dict[str, tuple[int, int]]:
        session = self.app.session
        counts = {}
        for section in session.checklist.sections:
            done = sum(1 for item in section.items if session.state(item.id).satisfied)
            counts[section.id] = (done, len(section.items))
        return counts

    def _refresh_header(self) -> None:
        self.query_one(ReleaseHeader).summary = self.app.summary()
