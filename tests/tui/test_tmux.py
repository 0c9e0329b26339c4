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


def _pane_alive(name: str) -> bool:
    out = subprocess.run(["tmux", "list-panes", "-t", name, "-F", "#{pane_dead} #{pane_pid}"],
                         capture_output=True, text=True, timeout=10)
    return out.returncode == 0 and out.stdout.strip().startswith("0")


def _sandbox_pids(root: Path) -> list[int]:
    import json

    pids = []
    for state in root.glob("sandbox-*.json"):
        pid = json.loads(state.read_text()).get("pid")
        if isinstance(pid, int):
            try:
                os.kill(pid, 0)
                pids.append(pid)
            except ProcessLookupError:
                pass
    return pids


def _run_cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HUNTER_OPERATOR": "bob", "SSH_CONNECTION": "203.0.113.5 40000 10.0.0.1 22",
           "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "hunter_console.cli", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=str(REPO))


def test_demo_release_break_and_roll_back_with_keys_only(tmp_path):
    """The demo at 80x24: a backup from the keyboard, migrate and deploy from a second shell
    (shown on the console as they run), the release broken, then ctrl+r, the name, Enter."""
    import httpx
    from dotenv import dotenv_values

    assert shutil.which("tmux"), "tmux is needed (the CI script installs it)"
    name = f"hc-demo-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "ws"
    env = {"HUNTER_OPERATOR": "carol", "SSH_CONNECTION": "198.51.100.7 50000 10.0.0.1 22",
           "TERM": "xterm-256color", "PYTHONPATH": str(REPO)}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (f"cd {shlex.quote(str(REPO))} && env {exports} {shlex.quote(sys.executable)} -m hunter_console.cli "
               f"demo --state-dir {shlex.quote(str(root))}; sleep 30")  # the pane stays to be read
    _tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", name, command)
    try:
        wait_for(name, "s Sign off", timeout=30)
        config = root / "hunter.toml"
        base_url = f"http://127.0.0.1:{__import__('tomllib').loads(config.read_text())['environments']['sandbox']['executor_settings']['port']}"

        # backup from the keyboard: the palette jumps to its section, Enter shows the plan, Enter runs
        keys(name, "C-p")
        wait_for(name, "Search for commands")
        keys(name, "-l", "Jump to section: Step 2")
        time.sleep(0.5)
        keys(name, "Enter")
        wait_for(name, "Step 2: Database Backup ─")
        keys(name, "Enter")
        wait_for(name, "Run backup on sandbox")
        keys(name, "Enter")
        screen = wait_for(name, "backup finished in", timeout=60)
        assert " OK " in screen and "integrity_check: ok" in screen
        keys(name, "Escape")
        wait_for(name, "s Sign off")

        # migrate and deploy from a second shell, as another operator: the console shows them
        for action in ("migrate", "deploy"):
            result = _run_cli(config, "run", action)
            assert result.returncode == 0, result.stdout + result.stderr
        assert httpx.get(f"{base_url}/healthz/ready", timeout=5).json()["version"] == "v1.0.0"

        # break it
        token = dotenv_values(root / "sandbox.env")["HUNTER_ADMIN_TOKEN"]
        r = httpx.post(f"{base_url}/_admin/faults", headers={"X-Admin-Token": token}, json={"fail_ready": True},
                       timeout=5)
        assert r.status_code == 200, r.text
        assert httpx.get(f"{base_url}/healthz/ready", timeout=5).status_code == 503

        # roll back with keys only: ctrl+r, the name, Enter
        keys(name, "C-r")
        rollback = wait_for(name, "ROLLBACK sandbox")
        wait_for(name, "stop v1.0.0, start v0.9.0")
        rollback = _tmux("capture-pane", "-p", "-t", name)
        keys(name, "-l", "sandbox")
        keys(name, "Enter")
        screen = wait_for(name, "rollback finished in", timeout=60)
        assert " OK " in screen and "healthy" in screen, screen
        assert "Target health" in screen
        wait_for(name, "/healthz/ready   GET /healthz/ready answered 200", timeout=15)
        screen = _tmux("capture-pane", "-p", "-t", name)
        assert all(len(line) <= 80 for line in screen.splitlines())
        assert httpx.get(f"{base_url}/healthz/ready", timeout=5).json()["version"] == "v0.9.0"
        (tmp_path / "rollback-screen.txt").write_text(rollback)
        (tmp_path / "action-screen.txt").write_text(screen)
        print("\n--- rollback screen ---\n" + rollback + "\n--- action screen ---\n" + screen)

        keys(name, "Escape", "q")
        wait_for(name, "demo stopped: the sandbox is no longer running", timeout=30)
        assert _sandbox_pids(root) == []
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, timeout=10)
        if _sandbox_pids(root):  # never leave a sandbox behind, even when the test failed
            import asyncio

            from hunter_console import demo

            asyncio.run(demo.stop_leftovers(root))
