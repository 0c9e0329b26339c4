"""Command palette (Ctrl+P) entries: the operator's actions, and a jump to every section."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from hunter_console.tui.view import section_path


class ConsoleCommands(Provider):
    def _commands(self):
        app = self.app
        yield "Sign off", "Sign off the highlighted item, with an optional note", app.action_signoff
        yield "Withdraw sign-off", "Withdraw the highlighted item's sign-off", app.action_withdraw
        yield "Decide GO / NO-GO", "Record the release decision", app.action_decide
        yield "Run action", "Plan preview of the highlighted action item, then Run (x)", app.action_run_item
        yield "Show output", "The output of the highlighted item's last run (o)", app.action_output
        yield "Re-run probe", "Re-run the highlighted item's probe now (r)", app.action_reprobe
        yield "Re-run all probes", "Re-run the whole probe sweep now (R)", app.action_sweep
        yield "Roll back", "Incident rollback of this environment (ctrl+r)", app.action_rollback
        yield "Audit history", "Every event of this release: filter, search, detail, report (h)", app.action_history
        yield "Monitoring", "Error rate, P95, cache hit rate, pool over 5 min / 1 h / 24 h windows (m)", app.action_monitor
        yield "Help", "Key reference", app.action_help
        checklist = app.session.checklist
        for section in checklist.sections:
            if section.items:
                yield (f"Jump to section: {section_path(checklist, section)}",
                       f"{len(section.items)} item(s)", partial(app.jump_to_section, section.id))

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
