"""Snapshots of every screen at 80x24 (the SSH default), and the main screen at 120x40.

The clock is pinned (conftest.pinned_clock), the cursor does not blink, and notifications are
cleared before the picture is taken. Regenerate with `make snapshot-update` and review the SVGs
like code.
"""

from __future__ import annotations

from hunter_console.events import ProbeResult, Status
from hunter_console.tui.widgets.items import ItemList

from .tui_helpers import PINNED_DT, first_item



async def _settle(pilot):
    pilot.app.clear_notifications()
    await pilot.pause()


def test_main_80x24(app, snap_compare):
    assert snap_compare(app, terminal_size=(80, 24))


def test_main_120x40_with_signoffs_and_a_decision(app, session, snap_compare):
    env = next(s for s in session.checklist.sections if s.title == "Environment Variables")
    session.signoff(env.items[0].id, "in vault")
    session.signoff(env.items[1].id)
    session.decide("no-go", "smoke tests not run yet")

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.jump_to_section(env.id)
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_detail_80x24(app, session, snap_compare):
    section, item = first_item(session, lambda i: i.probe is not None and not i.done_before)
    session.signoff(item.id, "checked by hand")
    session.record_probe(ProbeResult(item.id, Status.WARN, "set, but not in the production format",
                                     latency_ms=3.0, ts=PINNED_DT))

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.jump_to_section(section.id)
        pilot.app.screen.query_one(ItemList).highlighted = [i.id for i in section.items].index(item.id)
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_signoff_modal_80x24(app, snap_compare):
    async def run_before(pilot):
        await pilot.press("tab", "j", "tab", "s", *"rotated last week")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_withdraw_modal_80x24(app, session, snap_compare):
    section, item = first_item(session, lambda i: not i.done_before)
    session.signoff(item.id, "done")

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.jump_to_section(section.id)
        await pilot.press("w")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_decision_modal_80x24(app, snap_compare):
    async def run_before(pilot):
        await pilot.press("d")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(app, snap_compare):
    async def run_before(pilot):
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
