"""Fixtures for the TUI tests: a real session on a real audit log in tmp_path, the default
checklist, and a pinned clock so anything time-dependent renders the same every run."""

from __future__ import annotations

import pytest

from hunter_console.audit import AuditLog
from hunter_console.checklist import load_checklist
from hunter_console.session import ReleaseSession
from hunter_console.tui.app import HunterConsole, make_app

from .tui_helpers import PINNED_DT, PINNED_TS


@pytest.fixture
def pinned_clock(monkeypatch):
    """Every audit row (and so every sign-off and decision) gets the same timestamp."""
    import hunter_console.audit.log as audit_log

    monkeypatch.setattr(audit_log, "utc_timestamp", lambda: PINNED_TS)
    return PINNED_DT


@pytest.fixture
def session(settings, pinned_clock) -> ReleaseSession:
    """The default Hunter v1.0 checklist, operator alice from ssh 192.0.2.10 (tests/conftest.py)."""
    s = ReleaseSession(settings, load_checklist(None), AuditLog(settings.audit_path))
    yield s
    s.audit.close()


@pytest.fixture
def app(session) -> HunterConsole:
    return make_app(session, cursor_blink=False)
