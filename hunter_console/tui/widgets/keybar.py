"""A one-line key reference at the bottom of each screen.

Textual's Footer composes a widget per key and recomposes on every focus change; at start-up
that was ~40% of the time to an interactive checklist (tests/benchmarks/bench_startup.py).
This draws the same information as one line of text, redrawn when the screen's bindings change.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyBar > .keybar--key { color: $footer-key-foreground; text-style: bold; }
    KeyBar > .keybar--description { color: $footer-description-foreground; }
    KeyBar > .keybar--disabled { color: $text-disabled; }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, _screen) -> None:
        self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        disabled_style = self.get_component_rich_style("keybar--disabled")
        active = self.screen.active_bindings
        line = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            line.append(f" {key} ", disabled_style if not enabled else key_style)
            line.append(f"{binding.description} ", disabled_style if not enabled else description_style)
        palette_key = self.app.COMMAND_PALETTE_BINDING
        if self.app.ENABLE_COMMAND_PALETTE and palette_key in active:
            _node, binding, enabled, _tooltip = active[palette_key]
            tail = Text.assemble((f" {self.app.get_key_display(binding)}", key_style),
                                 (f" {binding.description} ", description_style))
            gap = self.size.width - line.cell_len - tail.cell_len
            if gap >= 1:
                line.append(" " * gap)
                line.append_text(tail)
        return line
