"""Snapshots of every screen at 80x24 (the SSH default), and the main screen at 120x40.

The clock is pinned (conftest.pinned_clock), the cursor does not blink, and notifications are
cleared before the picture is taken. Regenerate with `make snapshot-update` and review the SVGs
like code.
"""

from __future__ import annotations

from hunter_console.events import ProbeResult, Status
from hunter_console.tui.widgets.items import ItemList

from .tui_helpers import PINNED_DT, first_item, recorded_run, wait_until



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


def _detail(app, session, snap_compare, size):
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

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_detail_80x24(app, session, snap_compare):
    _detail(app, session, snap_compare, (80, 24))


def test_detail_120x40(app, session, snap_compare):
    _detail(app, session, snap_compare, (120, 40))


def _signoff_modal(app, snap_compare, size):
    async def run_before(pilot):
        await pilot.press("tab", "j", "tab", "s", *"rotated last week")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_signoff_modal_80x24(app, snap_compare):
    _signoff_modal(app, snap_compare, (80, 24))


def test_signoff_modal_120x40(app, snap_compare):
    _signoff_modal(app, snap_compare, (120, 40))


def _withdraw_modal(app, session, snap_compare, size):
    section, item = first_item(session, lambda i: not i.done_before)
    session.signoff(item.id, "done")

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.jump_to_section(section.id)
        await pilot.press("w")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_withdraw_modal_80x24(app, session, snap_compare):
    _withdraw_modal(app, session, snap_compare, (80, 24))


def test_withdraw_modal_120x40(app, session, snap_compare):
    _withdraw_modal(app, session, snap_compare, (120, 40))


def _decision_modal(app, snap_compare, size):
    async def run_before(pilot):
        await pilot.press("d")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_decision_modal_80x24(app, snap_compare):
    _decision_modal(app, snap_compare, (80, 24))


def test_decision_modal_120x40(app, snap_compare):
    _decision_modal(app, snap_compare, (120, 40))


def _help(app, snap_compare, size):
    async def run_before(pilot):
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- actions and rollback: pinned content (runs recorded with the pinned clock, fixed paths) ----------
BACKUP = {"path": "/var/backups/hunter/backup_pre_v1.0.0_20261127_092900.dump", "size": 2_411_520,
          "sha256": "4f2a9c1be0d3" + "7" * 52, "kind": "backup"}
BACKUP_LINES = [
    "$ pg_dump --format=custom --no-owner --file /var/backups/hunter/backup_pre_v1.0.0_20261127_092900.dump.partial",
    "pg_dump: last built-in OID is 16383",
    "pg_dump: reading extensions",
    "pg_dump: reading schemas",
    "pg_dump: reading user-defined tables",
    "pg_dump: dumping contents of table \"public.companies\"",
    "pg_dump: dumping contents of table \"public.domain_signals\"",
    "$ pg_restore --list (read back in full)",
    "read back: 23 TOC entries, 2411520 bytes",
    "sha256 4f2a9c1be0d37777; published /var/backups/hunter/backup_pre_v1.0.0_20261127_092900.dump",
]


def test_help_80x24(app, snap_compare):
    _help(app, snap_compare, (80, 24))


def test_help_120x40(app, snap_compare):
    _help(app, snap_compare, (120, 40))


def _backup_run(session) -> int:
    item = next(i for i in session.checklist.items() if i.action == "backup")
    return recorded_run(session, "backup", BACKUP_LINES, item=item.id, duration_s=4.27,
                        progress=(2, 2, "steps", "verified"), artifacts=[BACKUP],
                        message="backup verified: 2.3 MiB (2411520 bytes) at "
                                "/var/backups/hunter/backup_pre_v1.0.0_20261127_092900.dump")


async def _until(pilot, predicate):
    await wait_until(pilot, predicate)
    await pilot.pause(0.2)  # one more flush of the output timer
    await _settle(pilot)


def _plan_modal(app, session, snap_compare, size):
    """An incident action (restore): the plan, and Run disabled until the name is typed exactly."""
    section, item = first_item(session, lambda i: i.action == "restore")

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.jump_to_section(section.id)
        pilot.app.screen.query_one(ItemList).highlighted = [i.id for i in section.items].index(item.id)
        await pilot.press("enter", *"loc")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_plan_modal_80x24(app, session, snap_compare):
    _plan_modal(app, session, snap_compare, (80, 24))


def test_plan_modal_120x40(app, session, snap_compare):
    _plan_modal(app, session, snap_compare, (120, 40))


def _action_screen(app, session, size, snap_compare):
    run_id = _backup_run(session)

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.open_run(run_id)
        await _until(pilot, lambda: getattr(pilot.app.screen, "finished", None) is not None)

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_action_screen_finished_80x24(app, session, snap_compare):
    assert _action_screen(app, session, (80, 24), snap_compare)


def test_action_screen_finished_120x40(app, session, snap_compare):
    assert _action_screen(app, session, (120, 40), snap_compare)


def _rollback_screen(app, session, snap_compare, size):
    """The plan with every database choice available, the name half typed."""
    _backup_run(session)
    recorded_run(session, "migrate", ["alembic upgrade head"], detail={"revision_before": "c3e5a7b9d1f4"})

    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("ctrl+r")
        await _until(pilot, lambda: getattr(pilot.app.screen, "plan", None) is not None)
        await pilot.press(*"loc")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)



def test_rollback_screen_80x24(app, session, snap_compare):
    _rollback_screen(app, session, snap_compare, (80, 24))


def test_rollback_screen_120x40(app, session, snap_compare):
    _rollback_screen(app, session, snap_compare, (120, 40))