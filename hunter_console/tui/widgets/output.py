"""An action's output: a Log that follows the tail only while the operator lets it.

Scrolling up (keys, wheel) stops following; End (or the screen's G) follows again, and so does
scrolling back down to the last line. The screen writes batches with `append` and the Log is
scrolled after the layout has caught up (a long line that brings a horizontal scrollbar would
otherwise leave the view one line short of the end).
"""

from __future__ import annotations

from typing import Iterable

from textual import events
from textual.widgets import Log


class OutputLog(Log):
    def __init__(self, **kwargs) -> None:
        super().__init__(auto_scroll=False, **kwargs)
        self.following = True

    def append(self, lines: Iterable[str]) -> None:
        """Write a batch of lines in one go; keep the tail in view while following."""
        self.write_lines(lines, scroll_end=False)
        if self.following:
            self.scroll_end(animate=False, x_axis=False)

    def follow(self) -> None:
        self.following = True
        self.scroll_end(animate=False, x_axis=False)

    def unfollow(self) -> None:
        self.following = False

    # Whatever moves the view up stops following; reaching the end again resumes it.
    def action_scroll_up(self) -> None:
        self.following = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.following = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.following = False
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        self.follow()

    def action_scroll_down(self) -> None:
        super().action_scroll_down()
        self.call_after_refresh(self._resume_at_end)

    def action_page_down(self) -> None:
        super().action_page_down()
        self.call_after_refresh(self._resume_at_end)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False
        super()._on_mouse_scroll_up(event)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        super()._on_mouse_scroll_down(event)
        self.call_after_refresh(self._resume_at_end)

    def _resume_at_end(self) -> None:
        if self.is_vertical_scroll_end:
            self.following = True
