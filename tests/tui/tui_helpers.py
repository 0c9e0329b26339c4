"""Small helpers for reading what the console shows."""

from __future__ import annotations

import io
from datetime import datetime, timezone

from rich.console import Console
from textual.app import App


# The one time every audit row gets in the TUI tests (see conftest.pinned_clock).
PINNED_TS = "2026-11-27T09:30:00.000000Z"
PINNED_DT = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)


def screen_text(app: App) -> str:
    """The whole screen (modals over their background) as plain text, as an operator reads it.

    Rendered the way `App.export_screenshot` does, but exported as text instead of SVG.
    """
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens, simplify=True)
    console.print(update)
    return console.export_text()


def first_item(session, predicate):
    """(section, item) of the first item matching predicate, in checklist order."""
    for section in session.checklist.sections:
        for item in section.items:
            if predicate(item):
                return section, item
    raise AssertionError("no such item in the checklist")
