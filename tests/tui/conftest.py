"""Fixtures for the TUI tests: a real session on a real audit log in tmp_path, the default
checklist, and a pinned clock so anything time-dependent renders the same every run."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunter_console.audit import AuditLog
from hunter_console.checklist import load_checklist
from hunter_console.config import load_settings
from hunter_console.session import ReleaseSession, open_session
from hunter_console.tui.app import HunterConsole, make_app

from workspaces import start_workspace, stop_workspace

from .tui_helpers import PINNED_DT, PINNED_NOW, PINNED_TS

SANDBOX_ENVIRON = {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22"}


@pytest.fixture
def pinned_clock(monkeypatch):
    """Every audit row (and so every sign-off and decision) gets the same timestamp, and the
    console's own clock (ages such as "12 min old") reads twelve minutes later."""
    import hunter_console.audit.log as audit_log
    import hunter_console.tui.view as view

    monkeypatch.setattr(audit_log, "utc_timestamp", lambda: PINNED_TS)
    monkeypatch.setattr(view, "now", lambda: PINNED_NOW)
    return PINNED_DT


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """One running sandbox for a test module (starting one costs ~2 s); stopped after it.
    Tests on it leave it serving v0.9.0, the way they found it."""
    workspace = start_workspace(tmp_path_factory.mktemp("sandbox") / "ws")
    yield workspace
    stop_workspace(workspace)


def sandbox_session(workspace, operator: str = "alice") -> ReleaseSession:
    """A session on the workspace's config, as `hunter-console --config <ws>/hunter.toml` opens it."""
    return open_session(load_settings(workspace.config_path, operator=operator, environ=SANDBOX_ENVIRON))


@pytest.fixture
def session(settings, pinned_clock) -> ReleaseSession:
    """The default Hunter v1.0 checklist, operator alice from ssh 192.0.2.10 (tests/conftest.py)."""
    s = ReleaseSession(settings, load_checklist(None), AuditLog(settings.audit_path))
    yield s
    s.audit.close()


@pytest.fixture
def app(session) -> HunterConsole:
    """Probes off: what the panes show is pinned (tests that want probes build their own app)."""
    return make_app(session, cursor_blink=False, probes=False)
