"""Probes, actions and the incident rollback driven through the console's keys at 80x24, on real
parts: the demo's sandbox Hunter API on a free 127.0.0.1 port, runner processes, the audit log."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time

import httpx
import pytest
from textual.widgets import Button, Input

from hunter_console import demo
from hunter_console.audit import AuditLog
from hunter_console.checklist import load_checklist
from hunter_console.events import ActionFinished, Status
from hunter_console.session import ReleaseSession
from hunter_console.tui.app import make_app
from hunter_console.tui.screens.action import ActionScreen
from hunter_console.tui.screens.checklist import ChecklistScreen
from hunter_console.tui.screens.plan import PlanModal
from hunter_console.tui.screens.rollback import RollbackScreen
from hunter_console.tui.widgets.items import ItemList
from hunter_console.tui.view import health_path

from .conftest import sandbox_session
from .tui_helpers import recorded_run, screen_text, wait_until

SIZE = (80, 24)


def section_titled(session, title: str):
    return next(s for s in session.checklist.sections if s.title.startswith(title))


def action_item(session, action: str):
    return next(i for i in session.checklist.items() if i.action == action)


def health_items(session) -> list[str]:
    return [i.id for i in session.checklist.items() if health_path(i)]


async def run_to_end(session, name: str, **kwargs) -> ActionFinished:
    await lock_released(session)  # a runner records its end a moment before it exits
    started = await session.start_action(name, **kwargs)
    events = [e async for e in session.follow(started.run_id)]
    await lock_released(session)
    return events[-1]


async def lock_released(session, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while session.holder() is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def audit_kinds(session) -> list[str]:
    return [row.kind for row in session.audit.events()]


# -- probes ---------------------------------------------------------------------------------------
async def test_probes_show_live_statuses_and_r_R_rerun_them(sandbox):
    session = sandbox_session(sandbox)
    section = section_titled(session, "Health Checks")
    ids = [i.id for i in section.items if i.probe is not None]
    app = make_app(session, cursor_blink=False, probe_items=ids)
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        await wait_until(pilot, lambda: all(session.state(i).probe for i in ids), what="the first sweep")
        await pilot.pause()
        text = screen_text(app)
        assert text.count("PASS") >= len(ids)
        assert "GET /healthz/live answered 200" in text and " ms" in text  # the reason and the latency

        items = app.screen.query_one(ItemList)
        first = items.highlighted_item
        before = session.state(first).probe
        await pilot.press("r")  # (PENDING until it answers: see the hung-probe test)
        await wait_until(pilot, lambda: session.state(first).probe is not before, what="a new result for r")
        assert session.state(first).probe.ts > before.ts and session.state(first).probe.status is Status.PASS

        olds = {i: session.state(i).probe for i in ids}
        await pilot.press("R")
        await wait_until(pilot, lambda: all(session.state(i).probe is not olds[i] for i in ids), what="the sweep")
        await wait_until(pilot, lambda: not app.probes.pending, what="nothing pending")
    # Unmounting stopped the scheduler and every in-flight probe.
    assert app.probes.scheduler is None


async def test_the_console_stays_responsive_while_a_probe_hangs(settings, tmp_path):
    """A target that accepts connections and never answers: probes stay PENDING (for their
    timeout), and the keys still move the cursor at once."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)  # the kernel completes the handshakes; nobody ever reads or answers
    try:
        env = dataclasses.replace(settings.environment, base_url=f"http://127.0.0.1:{hung.getsockname()[1]}")
        hung_settings = dataclasses.replace(settings, environments={**settings.environments, env.name: env})
        session = ReleaseSession(hung_settings, load_checklist(None), AuditLog(hung_settings.audit_path))
        section = section_titled(session, "Health Checks")
        ids = [i.id for i in section.items if i.probe is not None]
        app = make_app(session, cursor_blink=False, probe_items=ids)
        async with app.run_test(size=SIZE) as pilot:
            app.jump_to_section(section.id)
            await wait_until(pilot, lambda: app.probes.running, what="the scheduler started")
            await pilot.pause(0.3)
            assert screen_text(app).count("PENDING") >= len(ids)
            items = app.screen.query_one(ItemList)
            for key, expected in (("j", 1), ("j", 2), ("k", 1), ("r", 1), ("j", 2)):
                began = time.monotonic()
                await pilot.press(key)
                assert items.highlighted == expected
                assert time.monotonic() - began < 0.5, f"{key} took {time.monotonic() - began:.2f}s"
            assert all(session.state(i).probe is None for i in ids)  # still hanging: nothing answered
        session.audit.close()
    finally:
        hung.close()


# -- actions --------------------------------------------------------------------------------------
async def test_backup_from_its_item_shows_its_output_and_ok(sandbox):
    session = sandbox_session(sandbox)
    item = action_item(session, "backup")
    app = make_app(session, cursor_blink=False, probes=False)
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(session.checklist.section_of(item.id).id)
        await pilot.pause()
        await pilot.press("enter")  # Enter on an action item: its plan
        assert isinstance(app.screen, PlanModal)
        text = screen_text(app)
        assert "Run backup on sandbox" in text and "1. pg_dump" in text
        assert not app.screen.query_one("#run", Button).disabled  # not production: no name to type
        await pilot.press("enter")  # Run has the focus
        await wait_until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the action screen")
        screen = app.screen
        await wait_until(pilot, lambda: screen.finished is not None and not screen._buffer, what="the end")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "PRAGMA integrity_check: ok" in text
        assert " OK " in text and "backup finished in" in text and "backup verified" in text
        assert "alice@192.0.2.10" in text
        await pilot.press("escape")
        assert isinstance(app.screen, ChecklistScreen)
        await pilot.pause()
        assert session.state(item.id).label == "OK"
        assert "OK      Step 2: Database Backup" in screen_text(app)

        # Reopening follows the run again from its start (the audit log replays it).
        await pilot.press("o")
        assert isinstance(app.screen, ActionScreen)
        await wait_until(pilot, lambda: app.screen.finished is not None, what="the replay")
        await pilot.pause(0.2)
        assert "PRAGMA integrity_check: ok" in screen_text(app)


@pytest.mark.parametrize("production, action", [(True, "migrate"), (False, "restore")])
async def test_a_confirmation_that_does_not_match_keeps_run_disabled(tmp_path, production, action):
    """Production (migrate changes it) or an incident action (restore, everywhere): the
    environment's name must be typed exactly; anything else runs and records nothing."""
    workspace = await demo.prepare(tmp_path / "ws", database_url=None, production=production)
    session = sandbox_session(workspace)
    item = action_item(session, action)
    before = audit_kinds(session)
    app = make_app(session, cursor_blink=False, probes=False)
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(session.checklist.section_of(item.id).id)
        items = app.screen.query_one(ItemList)
        items.highlighted = [i.id for i in session.checklist.section_of(item.id).items].index(item.id)
        await pilot.press("x")
        modal = app.screen
        assert isinstance(modal, PlanModal)
        assert "type sandbox to confirm" in screen_text(app).replace("\n", " ")
        run = modal.query_one("#run", Button)
        for typed in ("", "sandbx", "Sandbox", "sandbox ", "production"):
            modal.query_one("#confirm", Input).value = typed
            await pilot.pause()
            assert run.disabled, typed
        await pilot.press("enter")  # Enter in the name field: refused on screen, nothing runs
        await pilot.click("#run")
        modal.action_run()
        await pilot.pause()
        assert app.screen is modal and "type sandbox exactly" in screen_text(app)
        modal.query_one("#confirm", Input).value = "sandbox"
        await pilot.pause()
        assert not run.disabled
        await pilot.press("escape")
        assert isinstance(app.screen, ChecklistScreen)
    assert audit_kinds(session) == before  # no start, no refusal: nothing was asked of the session


# -- rollback -------------------------------------------------------------------------------------
async def test_ctrl_r_opens_the_rollback_plan_from_anywhere_and_a_wrong_name_runs_nothing(app, session):
    recorded_run(session, "backup", ["pg_dump"], item=action_item(session, "backup").id,
                 artifacts=[{"path": "/var/backups/hunter/backup_pre_v1.0.0.dump", "size": 2_411_520,
                             "sha256": "4f2a9c1be0d3" + "0" * 52, "kind": "backup"}])
    recorded_run(session, "migrate", ["alembic upgrade head"], detail={"revision_before": "c3e5a7b9d1f4"})
    before = audit_kinds(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")  # a dialog with a text field open: ctrl+r still gets through
        assert isinstance(app.focused, Input)
        await pilot.press("ctrl+r")
        screen = app.screen
        assert isinstance(screen, RollbackScreen)
        assert isinstance(app.focused, Input) and app.focused.id == "rb-confirm"
        await wait_until(pilot, lambda: screen.plan is not None, what="the plan")
        await pilot.pause()
        text = screen_text(app)
        assert "ROLLBACK local" in text
        assert "downgrade to c3e5a7b9d1f4" in text and "can drop data" in text
        assert "restore backup_pre_v1.0.0.dump (2.3 MiB, 12 min old)" in text and "sha256 4f2a9c1be0d3" in text
        assert "cannot roll the app back" in text  # the test environment has no executor port
        assert screen.choice == "none"

        await pilot.press(*"locl", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RollbackScreen)
        assert "type local exactly to roll back: nothing ran" in screen_text(app)
        await pilot.press("tab", "3")  # the database choice, from the keyboard
        assert screen.choice == "restore"
        await pilot.press("escape")
        assert not isinstance(app.screen, RollbackScreen)
    assert audit_kinds(session) == before


async def test_rollback_after_a_deploy_with_keys_only(sandbox):
    """backup, migrate and deploy v1.0.0 (started through the session), then ctrl+r, the name,
    Enter: the rollback ends OK, its log and the target's health on screen, v0.9.0 serving."""
    session = sandbox_session(sandbox)
    for name in ("backup", "migrate", "deploy"):
        end = await run_to_end(session, name)
        assert end.status == "ok", f"{name}: {end.outcome.message}"
    assert httpx.get(f"{sandbox.base_url}/healthz/ready", timeout=5).json()["version"] == "v1.0.0"

    app = make_app(session, cursor_blink=False, probe_items=health_items(session))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await pilot.press(*"sandbox")
        await pilot.press("enter")  # 2 presses and the name, from the main screen
        await wait_until(pilot, lambda: isinstance(app.screen, ActionScreen), what="the rollback running")
        screen = app.screen
        assert screen.is_health_shown
        await wait_until(pilot, lambda: screen.finished is not None, timeout=60, what="the rollback's end")
        await wait_until(pilot, lambda: all(r.result and r.result.ts > screen.finished.ts
                                            for r in screen.query_one("#health").rows), what="health after")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert screen.finished.status == "ok", screen.finished.outcome.message
        assert " OK " in text and "rollback finished in" in text and "healthy" in text
        assert "app: ok: v0.9.0 is ready" in text  # the log tail
        assert "Target health" in text and text.count("PASS") >= 4 and "/healthz/ready" in text
    assert httpx.get(f"{sandbox.base_url}/healthz/ready", timeout=5).json()["version"] == "v0.9.0"
    [start] = [r for r in session.audit.events(kind="action.start") if r.action == "rollback"]
    assert start.detail["params"] == {"db": "none"} and start.operator == "alice"


# -- the action screen's output, and runs interrupted before this console opened -------------------
async def test_output_follows_the_tail_until_scrolled_up_and_search_jumps(app, session):
    run_id = recorded_run(session, "verify", [f"check {n:04d}: ok" for n in range(3000)], duration_s=12.0,
                          message="all checks passed")
    async with app.run_test(size=SIZE) as pilot:
        app.open_run(run_id)
        screen = app.screen
        await wait_until(pilot, lambda: screen.finished is not None and not screen._buffer, what="the replay")
        await pilot.pause(0.2)
        log = screen.query_one("#run-log")
        assert log.line_count == 3000 and log.following and log.is_vertical_scroll_end
        assert "check 2999: ok" in screen_text(app)

        await pilot.press("pageup")
        assert not log.following
        assert "paused at line" in screen_text(app)
        await pilot.press("G")
        await pilot.pause()
        assert log.following and log.is_vertical_scroll_end

        await pilot.press("slash", *"CHECK 1234", "enter")
        await pilot.pause()
        assert not log.following
        assert log.scroll_offset.y <= 1233 < log.scroll_offset.y + log.scrollable_content_region.height
        assert "line 1235: check 1234: ok" in screen_text(app)
        await pilot.press("escape", "escape")  # closes the search, then the screen
        assert isinstance(app.screen, ChecklistScreen)


async def test_a_run_interrupted_before_launch_is_reported_and_recorded(session, settings):
    run_id = recorded_run(session, "migrate", ["alembic upgrade head"], end=False)  # no runner holds it
    app = make_app(session, cursor_blink=False, probes=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any(f"run #{run_id} was interrupted" in n.message and "Reconciled:" in n.message
                   for n in app._notifications)
    [end] = [r for r in session.audit.events(kind="action.end") if r.detail.get("run") == run_id]
    assert end.status == "interrupted"
    found = end.detail["reconciliation"]  # the real state was asked; here no executor is configured, and it says so
    assert found["verdict"].startswith("unknown: no executor for local"), found
    assert session.state(action_item(session, "migrate").id).label in ("OPEN", "INTERRUPTED")
