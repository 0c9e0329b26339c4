"""The real command in a real terminal: tmux at 80x24, the way an operator over SSH sees it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hunter_console.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True, timeout=10).stdout


@pytest.fixture
def terminal(tmp_path):
    """A detached 80x24 tmux session running `python -m hunter_console.cli`; killed by name."""
    assert shutil.which("tmux"), "tmux is needed (the CI script installs it)"
    name = f"hc-test-{uuid.uuid4().hex[:8]}"
    audit = tmp_path / "audit.db"
    env = {"HUNTER_OPERATOR": "carol", "SSH_CONNECTION": "198.51.100.7 50000 10.0.0.1 22",
           "TERM": "xterm-256color", "PYTHONPATH": str(REPO)}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"cd {shlex.quote(str(REPO))} && env {exports} {shlex.quote(sys.executable)} -m hunter_console.cli --audit {shlex.quote(str(audit))}"
    _tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", name, command)
    try:
        yield name, audit
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, timeout=10)


def wait_for(name: str, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", name)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


def keys(name: str, *keys: str) -> None:
    for key in keys:  # one at a time: Escape followed by a key too soon reads as Alt+key
        _tmux("send-keys", "-t", name, key)
        time.sleep(0.15)


def test_sign_off_in_a_real_terminal(terminal):
    name, audit = terminal
    screen = wait_for(name, "s Sign off")  # the footer is painted last
    lines = screen.splitlines()
    assert "carol@198.51.100.7" in lines[0] and "NO-GO" in lines[0]
    assert "Sections" in lines[2]
    assert all(len(line) <= 80 for line in lines)

    keys(name, "Tab", "j", "Enter", "s")
    wait_for(name, "Enter to confirm")
    keys(name, "-l", "seen in vault")  # -l: literal text
    keys(name, "Enter")
    wait_for(name, "SIGNED")
    keys(name, "q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "Sections" in _tmux("capture-pane", "-p", "-t", name):
        time.sleep(0.1)

    with AuditLog(audit, create=False) as log:
        [row] = log.events(kind="signoff")
    assert (row.operator, row.host, row.detail["note"]) == ("carol", "ssh 198.51.100.7", "seen in vault")
