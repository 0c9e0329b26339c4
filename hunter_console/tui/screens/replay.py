"""A stored run, opened from the audit history: the action screen, fed from the run's own rows.

`ActionScreen` follows a run through `session.follow(run_id)`, which reads every event recorded
after the run's start: right for the run going on now, but for a run of last week in a log of a
million events it would read them all. This screen is the same viewer (output Log, search,
follow, outcome), filled once from `history.run_summary` and `history.run_output` (the run
index: only that run's rows) in a thread worker. A run still going on is followed live as the
action screen does. The target's health panel is left out: it shows the target now, not then.
"""

from __future__ import annotations

from datetime import datetime

from textual import work
from textual.message import Message

from hunter_console import history
from hunter_console.events import ActionFinished, ActionStarted, Artifact, Outcome
from hunter_console.tui.history_query import reader
from hunter_console.tui.screens.action import MAX_LINES, ActionScreen


def _time(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def started_of(s: history.RunSummary) -> ActionStarted:
    return ActionStarted(s.action, s.environment, tuple(s.plan), s.run_id, s.item, s.operator, s.host,
                         _time(s.started))


def finished_of(s: history.RunSummary) -> ActionFinished:
    artifacts = tuple(Artifact(**{k: a[k] for k in ("path", "size", "sha256", "kind") if k in a})
                      for a in s.artifacts if {"path", "size", "sha256"} <= a.keys())
    extra = {k: v for k, v in s.detail.items() if k not in ("run", "exit_code", "artifacts", "duration_s")}
    outcome = Outcome(s.status == "ok", s.message, s.exit_code, artifacts, extra)
    return ActionFinished(s.action, s.environment, outcome, float(s.duration_s or 0.0), s.run_id, s.item, s.status,
                          _time(s.ended or s.started))


class ReplayScreen(ActionScreen):
    class Replayed(Message):
        def __init__(self, summary: history.RunSummary, lines: list[str]) -> None:
            super().__init__()
            self.summary = summary
            self.lines = lines

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, run_id: int) -> None:
        super().__init__(run_id, health=False)

    def _follow(self) -> None:  # called by ActionScreen.on_mount
        self._replay()

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def _replay(self) -> None:
        try:
            log = reader(self.app.session.audit.path)
            try:
                summary = history.run_summary(log, self.run_id)
                lines = [text for _stream, text in history.run_output(log, self.run_id)] if summary.finished else []
            finally:
                log.close()
        except Exception as e:  # no such run, an unreadable log: said, never a crash
            self.post_message(self.Failed(str(e).strip("'\"")))
            return
        self.post_message(self.Replayed(summary, lines[-MAX_LINES:]))  # the Log keeps no more

    def on_replay_screen_failed(self, message: Failed) -> None:
        self.app.notify(f"cannot replay run #{self.run_id}: {message.reason}", severity="error", markup=False)
        if self.is_current:
            self.app.pop_screen()

    def on_replay_screen_replayed(self, message: Replayed) -> None:
        summary = message.summary
        if not summary.finished:  # still running: follow it as the action screen does
            ActionScreen._follow(self)
            return
        self.started = started_of(summary)
        self.finished = finished_of(summary)
        self._buffer.extend(message.lines)
        self._dirty = True
