"""The console driven through its keys at 80x24, against a real session and audit log."""

from __future__ import annotations

from textual.widgets import Button, Input

from hunter_console.tui.screens.checklist import ChecklistScreen
from hunter_console.tui.screens.decision import DecisionModal
from hunter_console.tui.screens.detail import ItemDetailScreen
from hunter_console.tui.screens.help import HelpScreen
from hunter_console.tui.screens.note import NoteModal
from hunter_console.tui.widgets.header import ReleaseHeader
from hunter_console.tui.widgets.items import ItemList
from hunter_console.tui.widgets.sections import SectionList

from .tui_helpers import first_item, screen_text

SIZE = (80, 24)


def sections_with_items(session):
    return [s for s in session.checklist.sections if s.items]


async def test_header_shows_release_operator_and_gate(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = app.screen.query_one(ReleaseHeader).render().plain
        assert "v1.0.0" in header and "local" in header
        assert "alice@192.0.2.10" in header
        assert session.gate() == "NO-GO"
        assert f"NO-GO  {len(session.open_items())} open" in header
        assert "no decision recorded yet" in header


async def test_navigate_sections_and_items(app, session):
    sections = sections_with_items(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        section_list = app.screen.query_one(SectionList)
        item_list = app.screen.query_one(ItemList)
        assert app.focused is item_list
        assert section_list.highlighted_section == sections[0].id
        assert item_list.highlighted_item == sections[0].items[0].id

        await pilot.press("j")
        assert item_list.highlighted_item == sections[0].items[1].id
        await pilot.press("down", "k")
        assert item_list.highlighted_item == sections[0].items[1].id

        await pilot.press("tab")
        assert app.focused is section_list
        await pilot.press("j")  # skips the heading above the next section
        assert section_list.highlighted_section == sections[1].id
        await pilot.pause()
        assert item_list.section_id == sections[1].id
        assert item_list.highlighted_item == sections[1].items[0].id
        await pilot.press("down")
        assert section_list.highlighted_section == sections[2].id
        await pilot.press("up", "k")
        assert section_list.highlighted_section == sections[0].id
        await pilot.pause()
        assert item_list.section_id == sections[0].id

        await pilot.press("shift+tab")
        assert app.focused is item_list
        await pilot.press("left")
        assert app.focused is section_list
        await pilot.press("enter")  # Enter on a section goes to its items
        assert app.focused is item_list


async def test_enter_opens_detail_with_item_content(app, session):
    # The items with commands are action items: Enter opens their plan (test_actions.py), and
    # i opens any item's detail.
    section, item = first_item(session, lambda i: bool(i.commands) and bool(i.detail))
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        await pilot.pause()
        items = app.screen.query_one(ItemList)
        items.highlighted = [i.id for i in section.items].index(item.id)
        await pilot.press("i" if item.action else "enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemDetailScreen)
        assert app.screen.item_id == item.id
        text = screen_text(app)
        assert item.title.replace("`", "")[:40] in text
        assert section.title in text
        assert item.kind.value in text
        assert "required    yes" in text
        assert "not signed off" in text
        assert item.commands[0].splitlines()[0][:40] in text
        await pilot.press("escape")
        assert isinstance(app.screen, ChecklistScreen)


async def test_signoff_with_note_is_audited_and_shown(app, session):
    section, item = first_item(session, lambda i: not i.done_before)
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        await pilot.pause()
        assert app.screen.query_one(ItemList).highlighted_item == item.id
        await pilot.press("s")
        assert isinstance(app.screen, NoteModal)
        await pilot.press(*"checked in vault", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)

        [row] = session.audit.events(kind="signoff")
        assert (row.item, row.operator, row.host) == (item.id, "alice", "ssh 192.0.2.10")
        assert row.detail["note"] == "checked in vault"
        assert session.state(item.id).label == "SIGNED"
        await pilot.pause()
        assert "SIGNED" in screen_text(app)

        # Signing it again is refused before any dialog opens; nothing more is recorded.
        await pilot.press("s")
        assert isinstance(app.screen, ChecklistScreen)
        assert len(session.audit.events(kind="signoff")) == 1


async def test_signoff_escape_records_nothing(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "j", "tab", "s")
        assert isinstance(app.screen, NoteModal)
        await pilot.press(*"never mind", "escape")
        assert isinstance(app.screen, ChecklistScreen)
        assert session.audit.events(kind="signoff") == []


async def test_withdraw_records_event_and_item_goes_back_to_open(app, session):
    section, item = first_item(session, lambda i: not i.done_before and i.probe is None)
    session.signoff(item.id, "done earlier")
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        app.screen.query_one(ItemList).highlighted = [i.id for i in section.items].index(item.id)
        await pilot.pause()
        assert "SIGNED" in screen_text(app)
        await pilot.press("w")
        assert isinstance(app.screen, NoteModal)
        await pilot.press(*"wrong key checked", "enter")
        await pilot.pause()
        [row] = session.audit.events(kind="signoff.withdrawn")
        assert (row.item, row.operator, row.host) == (item.id, "alice", "ssh 192.0.2.10")
        assert row.detail["note"] == "wrong key checked"
        assert len(session.audit.events(kind="signoff")) == 1  # nothing deleted
        assert session.state(item.id).label == "OPEN"
        await pilot.pause()
        assert "SIGNED" not in screen_text(app)


async def test_withdraw_without_signoff_opens_nothing(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "j", "tab", "w")
        assert isinstance(app.screen, ChecklistScreen)
        assert session.audit.events(kind="signoff.withdrawn") == []


async def test_go_is_refused_without_a_reason_while_items_are_open(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        modal = app.screen
        assert isinstance(modal, DecisionModal)
        assert modal.query_one("#go", Button).disabled
        text = screen_text(app)
        assert f"{len(session.open_items())} required items not satisfied" in text
        # Every way of asking for GO without a reason is refused, and nothing is recorded.
        await pilot.click("#go")
        modal.action_go()
        await pilot.press(" ", "enter")  # a blank reason is no reason; Enter only moves to NO-GO
        await pilot.pause()
        assert app.screen is modal
        assert modal.query_one("#go", Button).disabled
        assert app.focused.id == "no-go"
        assert session.audit.events(kind="decision") == []
        assert session.last_decision is None


async def test_go_with_reason_is_recorded(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d", *"hotfix, CAB approved")
        await pilot.pause()
        assert not app.screen.query_one("#go", Button).disabled
        await pilot.click("#go")
        await pilot.pause()
        [row] = session.audit.events(kind="decision")
        assert row.status == "go"
        assert row.detail["reason"] == "hotfix, CAB approved"
        assert row.detail["open_items"]
        assert (row.operator, row.host) == ("alice", "ssh 192.0.2.10")
        assert isinstance(app.screen, ChecklistScreen)
        header = app.screen.query_one(ReleaseHeader).render().plain
        assert "last decision GO by alice@192.0.2.10 at 2026-11-27 09:30:00 UTC" in header


async def test_no_go_is_recorded(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d", *"smoke tests red", "enter")  # Enter moves to the NO-GO button
        assert isinstance(app.focused, Button) and app.focused.id == "no-go"
        await pilot.press("enter")
        await pilot.pause()
        [row] = session.audit.events(kind="decision")
        assert row.status == "no-go" and row.detail["reason"] == "smoke tests red"
        assert session.last_decision.verdict == "no-go"


async def test_cancel_decision_records_nothing(app, session):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d", *"not yet", "escape")
        assert isinstance(app.screen, ChecklistScreen)
        assert session.audit.events(kind="decision") == []


async def test_help_opens_and_closes(app):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "sign off the highlighted item" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, ChecklistScreen)


async def test_detail_screen_signs_off_its_item(app, session):
    section, item = first_item(session, lambda i: not i.done_before)
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        await pilot.press("enter")
        assert isinstance(app.screen, ItemDetailScreen)
        await pilot.press("s", *"ok", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemDetailScreen)
        assert session.state(item.id).signoff.note == "ok"
        text = screen_text(app)
        assert "sign-off    alice@192.0.2.10 (ssh 192.0.2.10) at 2026-11-27 09:30:00 UTC" in text
        assert "note        ok" in text


async def test_command_palette_jumps_to_a_section(app, session):
    target = next(s for s in session.checklist.sections if s.title == "Health Checks")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Jump to section: Health Checks")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(ItemList).section_id == target.id
        assert app.screen.query_one(SectionList).highlighted_section == target.id


async def test_an_event_from_elsewhere_refreshes_the_panes(app, session):
    """The session publishes; the console redraws (another front end, a probe sweep)."""
    section, item = first_item(session, lambda i: not i.done_before)
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        await pilot.pause()
        before = app.screen.query_one(ReleaseHeader).render().plain
        session.signoff(item.id, "from the CLI")
        await pilot.pause()
        after = app.screen.query_one(ReleaseHeader).render().plain
        assert before != after
        assert f"{len(session.open_items())} open" in after
        assert "SIGNED" in screen_text(app)


def test_r_keys_mean_one_thing_each():
    """r re-runs a probe, R the sweep, ctrl+r rolls back: one App-level priority binding (an Input
    cannot swallow it), and no screen or widget binds ctrl+r or R to anything else."""
    from textual.binding import Binding

    from hunter_console.tui.app import HunterConsole
    from hunter_console.tui.screens.action import ActionScreen
    from hunter_console.tui.screens.checklist import ChecklistScreen
    from hunter_console.tui.screens.decision import DecisionModal
    from hunter_console.tui.screens.detail import ItemDetailScreen
    from hunter_console.tui.screens.help import HelpScreen
    from hunter_console.tui.screens.note import NoteModal
    from hunter_console.tui.screens.plan import PlanModal
    from hunter_console.tui.screens.rollback import RollbackScreen

    actions: dict[str, set[str]] = {}
    for owner in (HunterConsole, ChecklistScreen, ItemDetailScreen, NoteModal, DecisionModal, HelpScreen,
                  PlanModal, ActionScreen, RollbackScreen, SectionList, ItemList):
        for binding in owner.BINDINGS:
            keys = binding.key if isinstance(binding, Binding) else binding[0]
            for key in keys.split(","):
                actions.setdefault(key.strip(), set()).add(binding.action)
    [rollback] = [b for b in HunterConsole.BINDINGS if b.key == "ctrl+r"]
    assert rollback.priority and rollback.action == "rollback"
    assert actions["ctrl+r"] == {"rollback"}
    assert actions["r"] == {"app.reprobe"} and actions["R"] == {"app.sweep"}
    assert "shift+r" not in actions
    assert {"s", "w", "d", "x", "q", "question_mark", "j", "k", "enter", "escape"} <= set(actions)


async def test_wide_terminal_layout(session):
    from hunter_console.tui.app import make_app

    app = make_app(session, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert 30 <= app.screen.query_one(SectionList).outer_size.width <= 40
    app = make_app(session, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert 26 <= app.screen.query_one(SectionList).outer_size.width <= 30


async def test_a_burst_of_probe_results_shows_up(app, session):
    from hunter_console.events import ProbeResult, Status

    from .tui_helpers import PINNED_DT

    section = next(s for s in session.checklist.sections if s.title == "Environment Variables")
    async with app.run_test(size=SIZE) as pilot:
        app.jump_to_section(section.id)
        await pilot.pause()
        open_before = len(session.open_items())
        for _ in range(20):  # repeats: the console redraws, the audit log keeps one row per change
            for item in section.items:
                session.record_probe(ProbeResult(item.id, Status.PASS, "set", ts=PINNED_DT))
        await pilot.pause()
        text = screen_text(app)
        assert text.count("PASS ") >= len(section.items) - 1
        assert f"{open_before - len([i for i in section.items if i.required])} open" in text
        assert f"{len(section.items)}/{len(section.items)}" in text
