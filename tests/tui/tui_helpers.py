"""Small helpers for reading what the console shows."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta, timezone

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


# What `view.now()` says in the TUI tests: twelve minutes after every pinned audit row.
PINNED_NOW = PINNED_DT + timedelta(minutes=12)


async def wait_until(pilot, predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Pause the app until predicate() holds: workers and timers run meanwhile (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held; the screen was:\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


def recorded_run(session, action: str, lines: list[str], *, item: str | None = None, status: str = "ok",
                 message: str = "", duration_s: float = 1.0, progress: tuple[float, float, str, str] | None = None,
                 artifacts: list[dict] | None = None, detail: dict | None = None, end: bool = True) -> int:
    """A run recorded in the audit log the way the runner records one (start, output in one
    batch, progress, end), without running anything: pinned content for snapshots. Its run id."""
    common = {"release": session.release, "environment": session.environment, "operator": session.operator,
              "host": session.host, "item": item, "action": action}
    start = session.audit.append(kind="action.start", status="running", message=f"{action} started",
                                 detail={"nonce": "pinned", "pid": 1, "plan": session.plan(action), "params": {}},
                                 **common)
    rows = []
    if lines:
        rows.append({**common, "kind": "action.output", "message": "\n".join(lines),
                     "detail": {"run": start.id, "first": 1, "count": len(lines)}})
    if progress is not None:
        done, total, unit, text = progress
        rows.append({**common, "kind": "action.progress", "message": text,
                     "detail": {"run": start.id, "done": done, "total": total, "unit": unit}})
    if end:
        rows.append({**common, "kind": "action.end", "status": status, "message": message,
                     "detail": {**(detail or {}), "run": start.id, "exit_code": 0 if status == "ok" else 1,
                                "duration_s": duration_s, "lines": len(lines), "artifacts": artifacts or []}})
    session.audit.append_many(rows)
    session.refresh()
    return start.id
