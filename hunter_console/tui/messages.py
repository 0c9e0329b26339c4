"""Messages that carry things up: from the session to the app, from widgets to their screen."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class SessionEvent(Message):
    """The session published an event (a sign-off, a withdrawal, a decision, a probe result).

    Posted from the session's subscriber callback, which may run on any thread.
    """

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class SectionChosen(Message):
    """The operator moved to a section in the sections pane."""

    def __init__(self, section_id: str) -> None:
        super().__init__()
        self.section_id = section_id


class ItemOpened(Message):
    """The operator pressed Enter on an item: show its detail."""

    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id
