"""The audit history as a table: one row an event, keyed by its id, newest first.

Pages are appended at the bottom (`append`); events recorded since are put at the top
(`prepend`: added by key, then the rows re-ordered by id with `sort`, never a rebuild), and the
row the operator is on stays under the cursor. Columns are sized to the width: the message
takes what is left, and the origin column appears from WIDE columns on (at 80 the operator's
origin is in the event's detail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from hunter_console.audit import AuditEvent
from hunter_console.tui.view import BADGE_STYLES

WIDE = 100
LOAD_AHEAD = 20  # rows left below the cursor when the next page is asked for

STATUS_STYLES = {**{k.lower(): v for k, v in BADGE_STYLES.items()}, "signed": "green", "go": "bold green",
                 "no-go": "bold red", "refused": "bold red", "withdrawn": "yellow", "cancelled": "yellow",
                 "takeover": "bold yellow", "interrupted": "bold magenta"}
KIND_STYLES = {"decision": "bold", "refused": "red", "lock.takeover": "yellow", "action.interrupted": "magenta",
               "action.output": "dim", "action.progress": "dim"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # characters of content; one more for the gap after it


def columns_for(width: int) -> list[Column]:
    """The columns at this width; the message gets the rest (at least 10)."""
    if width >= WIDE:
        fixed = [Column("time", "time UTC", 11), Column("operator", "operator", 8), Column("origin", "origin", 15),
                 Column("kind", "kind", 13), Column("what", "item/action", 18), Column("status", "status", 9)]
    else:
        fixed = [Column("time", "time UTC", 11), Column("operator", "who", 6), Column("kind", "kind", 13),
                 Column("what", "item/action", 12), Column("status", "status", 7)]
    used = sum(c.width + 1 for c in fixed)
    return [*fixed, Column("message", "message", max(10, width - 1 - used - 1))]


def short_time(ts: str, today: date) -> str:
    """09:30:00 today; 11-26 16:05 another day this year; 2025-12-31 before that (all UTC)."""
    day = ts[:10]
    if day == today.isoformat():
        return ts[11:19]
    if day[:4] == f"{today.year:04d}":
        return f"{day[5:]} {ts[11:16]}"
    return day


def where(host: str) -> str:
    """`ssh 192.0.2.10` -> 192.0.2.10; `local bastion-1` -> bastion-1 (as view.origin says it)."""
    return host.split(" ", 1)[1] if " " in host else host


def what(event: AuditEvent) -> str:
    """The action for action rows; else the item, by its last part (the section is in the detail)."""
    if event.action and (event.kind.startswith("action.") or not event.item):
        return event.action
    return (event.item or "").rsplit(".", 1)[-1]


def first_line(message: str) -> str:
    head, _, rest = message.partition("\n")
    return head + (f" (+{rest.count(chr(10)) + 1} lines)" if rest else "")


class EventTime(Text):
    """The time cell; it carries its event's id so the rows can be ordered by id."""

    event_id: int = 0


def _cell(value: str, width: int, style: str = "") -> Text:
    text = Text(value.replace("\n", " "), style=style, no_wrap=True, overflow="ellipsis")
    text.truncate(width, overflow="ellipsis")
    return text


def event_cells(event: AuditEvent, columns: list[Column], today: date) -> list[Text]:
    cells: list[Text] = []
    for column in columns:
        if column.key == "time":
            cell = EventTime(short_time(event.ts, today), style="dim")
            cell.event_id = event.id
            cells.append(cell)
        elif column.key == "operator":
            cells.append(_cell(event.operator, column.width))
        elif column.key == "origin":
            cells.append(_cell(where(event.host), column.width, "dim"))
        elif column.key == "kind":
            cells.append(_cell(event.kind, column.width, KIND_STYLES.get(event.kind, "")))
        elif column.key == "what":
            cells.append(_cell(what(event), column.width, "cyan" if event.kind.startswith("action.") else ""))
        elif column.key == "status":
            status = event.status or ""
            cells.append(_cell(status, column.width, STATUS_STYLES.get(status.lower(), "")))
        else:
            cells.append(_cell(first_line(event.message), column.width,
                               "dim" if event.kind in ("action.output", "action.progress") else ""))
    return cells


class HistoryTable(DataTable):
    """Rows keyed by event id. Posts `NearEnd` when the cursor or the view nears the last row."""

    BINDINGS = [  # a table of rows: Home and End go to the first and the last row (and ask for more)
        Binding("home,g", "scroll_top", "Newest", show=False),
        Binding("end,G", "scroll_bottom", "Oldest", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class NearEnd(Message):
        """The operator is close to the oldest row loaded: time for the next page."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", cell_padding=0, zebra_stripes=False, **kwargs)
        self.events: dict[int, AuditEvent] = {}
        self.today: date = date.today()
        self._columns: list[Column] = []
        self._width = 0

    # -- layout ----------------------------------------------------------------------------
    def set_width(self, width: int) -> None:
        """Size the columns to `width`; a change rebuilds the rows from the events held (a resize
        only: new events never rebuild)."""
        if width == self._width or width <= 0:
            return
        self._width = width
        self._columns = columns_for(width)
        events = sorted(self.events.values(), key=lambda e: e.id, reverse=True)
        cursor = self.cursor_row
        self.clear(columns=True)
        for column in self._columns:
            self.add_column(Text(column.label, style="bold"), width=column.width + 1, key=column.key)
        self._add(events)
        if events:
            self.move_cursor(row=min(cursor, len(events) - 1), animate=False)

    # -- rows --------------------------------------------------------------------------------
    @property
    def newest_id(self) -> int:
        return max(self.events, default=0)

    @property
    def oldest_id(self) -> int | None:
        return min(self.events, default=None)

    def current_event(self) -> AuditEvent | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.events.get(int(key.value)) if key.value is not None else None

    def reset(self, events: Iterable[AuditEvent]) -> None:
        self.clear()
        self.events.clear()
        self._add(events)
        self.move_cursor(row=0, animate=False)
        self.scroll_home(animate=False)

    def append(self, events: Iterable[AuditEvent]) -> None:
        """Older rows, at the bottom."""
        self._add(events)

    def prepend(self, events: Iterable[AuditEvent]) -> int:
        """Newer rows, at the top, by key; the row under the cursor stays under it, and a view at
        the top stays at the top (showing them). Returns how many were added."""
        events = [e for e in events if e.id not in self.events]
        if not events:
            return 0
        at_top = self.cursor_row == 0 and self.scroll_y == 0
        current = self.current_event()
        self._add(events)
        self.sort("time", key=lambda cell: cell.event_id, reverse=True)
        if current is not None and not at_top:
            self.move_cursor(row=self.get_row_index(str(current.id)), animate=False, scroll=False)
            self.scroll_to(y=self.scroll_y + len(events), animate=False, immediate=True)
        else:
            self.move_cursor(row=0, animate=False)
        return len(events)

    def _add(self, events: Iterable[AuditEvent]) -> None:
        for event in events:
            if event.id in self.events:
                continue
            self.events[event.id] = event
            self.add_row(*event_cells(event, self._columns, self.today), key=str(event.id))

    # -- asking for more ---------------------------------------------------------------------
    def near_end(self) -> bool:
        if not self.row_count:
            return True
        below_cursor = self.row_count - 1 - self.cursor_row
        below_view = self.row_count - (int(self.scroll_y) + max(self.size.height - 1, 1))  # rows under the view
        return below_cursor < LOAD_AHEAD or below_view < LOAD_AHEAD

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.near_end():
            self.post_message(self.NearEnd())

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old and self.near_end():
            self.post_message(self.NearEnd())
