"""The audit history screen (h): newest first, filters, search, detail, a run's output replayed,
the release report, new events at the top, paging on a 100,000-event log; snapshots at 80x24
and 120x40 of a log with pinned timestamps and content."""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from hunter_console.audit import AuditLog
from hunter_console.checklist import load_checklist
from hunter_console.config import load_settings
from hunter_console.history import HistoryFilter
from hunter_console.session import ReleaseSession
from hunter_console.tui.app import make_app
from hunter_console.tui.history_query import HIDDEN_KINDS, load_page, parse_when, report_path
from hunter_console.tui.screens.event import EventScreen
from hunter_console.tui.screens.history import HistoryScreen
from hunter_console.tui.screens.replay import ReplayScreen
from hunter_console.tui.widgets.history_table import HistoryTable, columns_for, short_time
from hunter_console.tui.widgets.output import OutputLog

from .tui_helpers import PINNED_NOW, recorded_run, screen_text, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))
from bigdb import build  # noqa: E402

SIZE = (80, 24)
BIG_EVENTS = 100_000
OTHER_HOSTS = ("ssh 198.51.100.7", "local bastion-1")


# -- a log with pinned content ------------------------------------------------------------------------
def _clock(monkeypatch, start: datetime, step_s: float):
    """Every audit row `step_s` after the one before, from `start` (UTC)."""
    import hunter_console.audit.log as audit_log

    at = {"t": start}

    def tick() -> str:
        now = at["t"]
        at["t"] = now + timedelta(seconds=step_s)
        return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    monkeypatch.setattr(audit_log, "utc_timestamp", tick)
    return at


def _row(session, kind, *, operator="alice", host="ssh 192.0.2.10", release=None, environment=None, **fields):
    return session.audit.append(kind=kind, release=release or session.release,
                                environment=environment or session.environment, operator=operator, host=host,
                                **fields)


def fill(session, monkeypatch) -> dict:
    """Yesterday evening and this morning of release v1.0.0 on local, and rows of other releases
    and environments the default filters leave out. Returns a few of the ids."""
    items = [i for i in session.checklist.items() if not i.done_before]
    at = _clock(monkeypatch, datetime(2026, 11, 26, 17, 5, tzinfo=timezone.utc), 60)
    _row(session, "session.open", operator="bob", host=OTHER_HOSTS[0], message="console opened on local for v1.0.0")
    _row(session, "probe", operator="bob", host=OTHER_HOSTS[0], item=items[0].id, status="FAIL",
         message="DATABASE_URL is not set", detail={"value": None, "latency_ms": 1.0, "previous": None})
    _row(session, "session.open", release="v0.9.2", message="console opened on local for v0.9.2")
    _row(session, "session.open", environment="staging", message="console opened on staging for v1.0.0")
    at["t"] = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    _row(session, "session.open", message="console opened on local for v1.0.0")
    _row(session, "probe", item=items[0].id, status="PASS", message="DATABASE_URL set (postgresql://…)",
         detail={"value": "postgresql", "latency_ms": 2.1, "previous": "FAIL"})
    session.signoff(items[0].id, "checked in vault")
    session.signoff(items[1].id, "redis reachable from the api pods")
    session.refuse("migrate", "GO gate closed: 61 required items open")
    backup = recorded_run(session, "backup", [f"pg_dump: dumping contents of table public.t{i}" for i in range(12)]
                          + ["sha256 4f2a9c1be0d37777; backup published"],
                          item=next(i.id for i in session.checklist.items() if i.action == "backup"),
                          progress=(2, 2, "steps", "verified"), message="backup verified: 2.3 MiB", duration_s=4.2)
    session.withdraw(items[1].id, "wrong pod checked")
    _row(session, "lock.takeover", operator="carol", host=OTHER_HOSTS[1], action="rollback", status="takeover",
         message="rollback takes over from bob", detail={"holder": {"pid": 4242}})
    decision = session.decide("no-go", "smoke tests not run yet")
    session.refresh()
    return {"backup_run": backup, "items": items, "decision": decision}


@pytest.fixture
def history_app(app, session, monkeypatch):
    ids = fill(session, monkeypatch)
    return app, ids


def _screen(app) -> HistoryScreen:
    assert isinstance(app.screen, HistoryScreen), type(app.screen)
    return app.screen


def _table(app) -> HistoryTable:
    return _screen(app).query_one(HistoryTable)


def _rows(app) -> list:
    table = _table(app)
    return [table.events[int(table.coordinate_to_cell_key((r, 0)).row_key.value)] for r in range(table.row_count)]


def _said(app, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


def _settled(screen: HistoryScreen) -> bool:
    return screen._loaded and not screen._loading and screen.count is not None


async def _open(pilot):
    await pilot.pause()
    await pilot.press("h")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen) and _settled(pilot.app.screen),
                     what="the history's first page and count")


def _expected(session, filters: HistoryFilter | None = None) -> list[int]:
    """The ids the table should show, newest first, straight from SQL."""
    f = filters or HistoryFilter(release=session.release, environment=session.environment)
    where, params = ["release = ?", "environment = ?"], [f.release, f.environment]
    if f.kind:
        where.append("kind = ?")
        params.append(f.kind)
    else:
        where.append(f"kind NOT IN ({', '.join('?' for _ in HIDDEN_KINDS)})")
        params += list(HIDDEN_KINDS)
    with session.audit.snapshot() as conn:
        rows = conn.execute(f"SELECT id FROM events WHERE {' AND '.join(where)} ORDER BY id DESC", params).fetchall()
    return [r[0] for r in rows]


# -- the screen -------------------------------------------------------------------------------------
async def test_h_opens_the_history_newest_first(history_app, session):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        rows = _rows(app)
        assert [e.id for e in rows] == _expected(session)
        assert rows[0].kind == "decision" and rows[0].id == max(e.id for e in rows)
        assert {e.release for e in rows} == {"v1.0.0"} and {e.environment for e in rows} == {"local"}
        assert not any(e.kind in HIDDEN_KINDS for e in rows)  # output rows hidden by default
        text = screen_text(app)
        assert f"{len(rows)} events" in text
        assert "09:00:11" in text or "09:" in text  # today: the time of day
        assert "11-26 17:06" in text  # another day: its date
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)


async def test_palette_and_help_know_the_history(app):
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert "audit history" in screen_text(app)
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"Audit history")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen), what="history from the palette")


async def test_output_rows_toggle(history_app, session):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        shown = len(_rows(app))
        await pilot.press("a")
        await wait_until(pilot, lambda: _settled(_screen(app)) and len(_rows(app)) > shown, what="output rows")
        kinds = {e.kind for e in _rows(app)}
        assert {"action.output", "action.progress"} <= kinds
        await pilot.press("a")
        await wait_until(pilot, lambda: _settled(_screen(app)) and len(_rows(app)) == shown, what="hidden again")


async def test_filter_by_kind_narrows_the_rows(history_app, session):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.facets is not None, what="the facets")
        kinds = [value for _label, value in screen.query_one("#hf-kind", Select)._options if value != Select.NULL]
        assert "signoff" in kinds and "action.output" in kinds
        screen.query_one("#hf-kind", Select).value = "signoff"
        await wait_until(pilot, lambda: screen.filters.kind == "signoff" and _settled(screen), what="kind filter")
        rows = _rows(app)
        assert rows and {e.kind for e in rows} == {"signoff"}
        assert [e.id for e in rows] == _expected(session, HistoryFilter("v1.0.0", "local", kind="signoff"))
        assert "2 events" in screen_text(app)
        # another operator: nobody but carol took over a lock
        screen.query_one("#hf-kind", Select).value = Select.NULL
        screen.query_one("#hf-operator", Select).value = "carol"
        await wait_until(pilot, lambda: screen.filters.operator == "carol" and _settled(screen), what="operator")
        assert [e.kind for e in _rows(app)] == ["lock.takeover"]
        await pilot.press("c")  # back to the defaults
        await wait_until(pilot, lambda: screen.filters == screen.defaults and _settled(screen), what="clear")
        assert [e.id for e in _rows(app)] == _expected(session)


async def test_search_narrows_the_rows(history_app, session):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        screen = _screen(app)
        await pilot.press("slash")
        assert screen.focused is screen.query_one("#hf-text", Input)
        await pilot.press(*"vault", "enter")
        await wait_until(pilot, lambda: screen.filters.text == "vault" and _settled(screen), what="search")
        rows = _rows(app)
        assert len(rows) == 1 and rows[0].kind == "signoff" and "vault" in rows[0].message
        assert isinstance(screen.focused, HistoryTable)  # Enter applied it and went back to the rows
        assert "1 event" in screen_text(app)
        await pilot.press("slash", *"nothing-says-this", "enter")
        await wait_until(pilot, lambda: _settled(screen) and not _rows(app), what="no match")
        assert "no events match these filters" in screen_text(app)


async def test_time_range_filters(history_app, session):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        screen = _screen(app)
        everything = len(_rows(app))
        screen.query_one("#hf-since", Input).focus()
        await pilot.press(*"1h", "enter")  # the pinned now is 09:42: this morning only
        await wait_until(pilot, lambda: screen.filters.since is not None and _settled(screen), what="since")
        rows = _rows(app)
        assert 0 < len(rows) < everything and all(e.ts.startswith("2026-11-27") for e in rows)
        screen.query_one("#hf-since", Input).value = ""
        screen.query_one("#hf-until", Input).focus()
        await pilot.press(*"2026-11-27", "enter")
        await wait_until(pilot, lambda: screen.filters.until is not None and _settled(screen), what="until")
        assert {e.ts[:10] for e in _rows(app)} == {"2026-11-26"}
        screen.query_one("#hf-until", Input).value = "yesterday-ish"
        screen.query_one("#hf-until", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.filters.until == "2026-11-27"  # not read: the filters stay, a warning says why


def test_parse_when():
    now = datetime(2026, 11, 27, 9, 42, tzinfo=timezone.utc)
    assert parse_when("", now) is None
    assert parse_when("1h", now) == "2026-11-27T08:42:00.000000Z"
    assert parse_when("30m", now) == "2026-11-27T09:12:00.000000Z"
    assert parse_when("2d", now) == "2026-11-25T09:42:00.000000Z"
    assert parse_when("10:00", now) == "2026-11-27T10:00:00.000000Z"
    assert parse_when("2026-11-27 10:00", now) == "2026-11-27T10:00:00.000000Z"
    assert parse_when("2026-11-27", now) == "2026-11-27"
    with pytest.raises(ValueError, match="not a time"):
        parse_when("tuesday", now)


def test_columns_fit_the_width():
    for width in (80, 100, 120, 200):
        columns = columns_for(width)
        assert sum(c.width + 1 for c in columns) == width - 1  # the scrollbar takes the last column
    assert "origin" not in [c.key for c in columns_for(80)] and "origin" in [c.key for c in columns_for(120)]
    today = PINNED_NOW.date()
    assert short_time("2026-11-27T09:30:00.000000Z", today) == "09:30:00"
    assert short_time("2026-11-26T17:05:00.000000Z", today) == "11-26 17:05"
    assert short_time("2025-12-31T23:59:00.000000Z", today) == "2025-12-31"


async def test_enter_shows_the_event_in_full(history_app, session):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        newest = _rows(app)[0]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EventScreen), what="the event")
        text = screen_text(app)
        assert f"Audit event #{newest.id}" in text
        assert "smoke tests not run yet" in text and '"open_items": [' in text
        assert f"{newest.hash[:12]}…{newest.hash[-4:]}" in text and newest.hash not in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)


async def test_a_runs_output_replays(history_app, session):
    app, ids = history_app
    run = ids["backup_run"]
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        table = _table(app)
        table.move_cursor(row=table.get_row_index(str(run)))  # its action.start
        await pilot.press("enter")  # the start in full says the run, and o replays it from there
        await wait_until(pilot, lambda: isinstance(app.screen, EventScreen), what="the start")
        assert f"#{run}  o replays its output" in screen_text(app)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.finished is not None,
                         what="the replay")
        log = app.screen.query_one(OutputLog)
        await wait_until(pilot, lambda: log.line_count == 13, what="the output in the Log")
        assert log.lines[0] == "pg_dump: dumping contents of table public.t0"
        assert "OK  backup finished in 4.2 s: backup verified: 2.3 MiB" in screen_text(app)
        await pilot.press("slash", *"public.t7", "enter")  # the viewer's own search
        await pilot.pause(0.2)
        assert "line 8: pg_dump: dumping contents of table public.t7" in screen_text(app)
        await pilot.press("escape", "escape", "escape")  # search, replay, event
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("o")  # on the action.start row itself
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.finished is not None,
                         what="the replay from the row")


async def test_o_on_a_row_without_a_run_says_so(history_app):
    app, ids = history_app
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("o")  # the decision
        await wait_until(pilot, lambda: _said(app, "not a row of an action run"), what="the warning")
        assert isinstance(app.screen, HistoryScreen)


async def test_e_exports_the_release_report(history_app, session):
    app, ids = history_app
    expected = report_path(session.audit.path, "v1.0.0", "local", PINNED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: _said(app, f"release report written to {expected}"),
                         what="the report file")
        text = expected.read_text()
        assert text.startswith("# Release record: v1.0.0 on local")
        assert "smoke tests not run yet" in text and "backup verified" in text
        assert expected.name == "release-report-v1.0.0-local-20261127T094200Z.md"
        assert expected.parent == session.audit.path.parent
        await pilot.press("e")  # the same second: a second file, never over the first
        second = expected.with_name("release-report-v1.0.0-local-20261127T094200Z-2.md")
        await wait_until(pilot, lambda: second.exists(), what="the second report")


async def test_new_events_go_on_top_by_key(history_app, session):
    app, ids = history_app
    items = ids["items"]
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        table = _table(app)
        before = [e.id for e in _rows(app)]
        session.signoff(items[2].id, "seen on the dashboard")  # this console: state_version pokes the screen
        await wait_until(pilot, lambda: table.row_count == len(before) + 1, what="the new row")
        rows = [e.id for e in _rows(app)]
        assert rows[1:] == before and rows[0] > before[0]
        assert table.cursor_row == 0  # at the top: the newest is shown
        table.move_cursor(row=3)
        on = table.current_event().id
        _row(session, "session.open", operator="dave", host=OTHER_HOSTS[0], message="another console")  # polled
        _row(session, "session.open", environment="staging", message="not this environment")
        await wait_until(pilot, lambda: table.row_count == len(before) + 2, what="the polled row")
        assert table.current_event().id == on  # the operator stays on the row they were on
        assert [e.id for e in _rows(app)] == _expected(session)
        await wait_until(pilot, lambda: f"{len(before) + 2} events" in screen_text(app), what="the new count")


# -- a big log --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def big_log(tmp_path_factory) -> Path:
    """100,000 events (tests/history/bigdb.py), built once per session."""
    path = tmp_path_factory.mktemp("history-tui") / "audit.db"
    build(path, BIG_EVENTS)
    return path


async def test_big_log_first_page_is_the_newest_and_paging_loads_older(big_log, tmp_path):
    with sqlite3.connect(big_log) as conn:
        release, environment = conn.execute("SELECT release, environment FROM events ORDER BY id DESC "
                                             "LIMIT 1").fetchone()
        truth = [r[0] for r in conn.execute(
            "SELECT id FROM events WHERE release = ? AND environment = ? AND kind NOT IN (?, ?) ORDER BY id DESC "
            "LIMIT 400", (release, environment, *HIDDEN_KINDS))]
    settings = dataclasses.replace(
        load_settings(audit=big_log, operator="alice", environ={"SSH_CONNECTION": "192.0.2.10 1 192.0.2.1 22"}),
        release=release, env_name=environment, state_dir=tmp_path)
    log = AuditLog(big_log, create=False)
    session = ReleaseSession(settings, load_checklist(None), log)
    app = make_app(session, cursor_blink=False, probes=False)
    app._report_interrupted = lambda: None  # a run cut short by the builder is not this test's business
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _open(pilot)
            table = _table(app)
            first = [e.id for e in _rows(app)]
            assert first[0] == truth[0]  # the newest event of this release on this environment
            assert first == truth[:len(first)] and 50 <= len(first) <= 100
            for _ in range(3):  # to the end of what is loaded, three times: keyset pages below
                table.focus()
                loaded = table.row_count
                await pilot.press("end")
                await wait_until(pilot, lambda: table.row_count > loaded and not _screen(app)._loading,
                                 what="an older page")
            ids = [e.id for e in _rows(app)]
            assert ids == truth[:len(ids)] and len(ids) >= 300
            assert ids == sorted(ids, reverse=True)
    finally:
        log.close()


def test_load_page_skips_output_rows_and_resumes(big_log):
    log = AuditLog(big_log, create=False)
    try:
        f = HistoryFilter()
        page = load_page(log, f, limit=100)
        assert len(page.events) == 100 and not any(e.kind in HIDDEN_KINDS for e in page.events)
        following = load_page(log, f, before_id=page.before_id, limit=100)
        assert following.events[0].id < page.events[-1].id
        everything = load_page(log, f, limit=100, show_output=True)
        assert [e.id for e in everything.events] == list(range(BIG_EVENTS, BIG_EVENTS - 100, -1))
        short = load_page(log, HistoryFilter(kind="decision"), limit=100, max_scan=50)
        assert short.events and not short.done
    finally:
        log.close()


# -- snapshots --------------------------------------------------------------------------------------
def _snapshot(history_app, snap_compare, size):
    app, ids = history_app

    async def run_before(pilot):
        await _open(pilot)
        await wait_until(pilot, lambda: _screen(app).facets is not None, what="the facets")
        _table(app).move_cursor(row=2)
        app.clear_notifications()
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_history_80x24(history_app, snap_compare):
    assert _snapshot(history_app, snap_compare, (80, 24))


def test_history_120x40(history_app, snap_compare):
    assert _snapshot(history_app, snap_compare, (120, 40))


async def test_m_opens_the_monitoring_screen_and_esc_comes_back(session):
    from hunter_console.tui.app import make_app
    from hunter_console.tui.screens.checklist import ChecklistScreen
    from hunter_console.tui.screens.monitor import MonitorScreen

    app = make_app(session, cursor_blink=False, probes=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)
