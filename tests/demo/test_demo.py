"""`hunter-console demo --no-tui`: a live sandbox in its own workspace; quitting leaves nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hunter_console.config import load_settings


def start_demo(state_dir: Path) -> tuple[subprocess.Popen, str, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hunter_console.cli", "demo", "--no-tui", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    url = config = None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline and (url is None or config is None):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if m := re.search(r"serving on (http://127\.0\.0\.1:\d+)", line):
            url = m.group(1)
        if m := re.match(r"config: (.+)$", line.strip()):
            config = Path(m.group(1))
    assert url and config, "".join(lines)
    return proc, url, config


def sandbox_pid(state_dir: Path) -> int:
    [state] = state_dir.glob("sandbox-*.json")
    return json.loads(state.read_text())["pid"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive: it only waits for its parent to read its exit status
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, int(port))) == 0


def test_demo_serves_a_ready_sandbox_and_interrupt_leaves_nothing(tmp_path):
    proc, url, config = start_demo(tmp_path / "ws")
    try:
        ready = httpx.get(f"{url}/healthz/ready", timeout=5)
        assert ready.status_code == 200 and ready.json()["version"] == "v0.9.0"
        settings = load_settings(config, environ={})
        assert settings.release == "v1.0.0" and settings.environment.base_url == url
        assert settings.audit_path == tmp_path / "ws" / "audit.db"
        api_key = settings.environment.secret("api_key")
        assert httpx.get(f"{url}/api/v1/leads", headers={"X-API-Key": api_key}, timeout=5).status_code == 200
        pid = sandbox_pid(tmp_path / "ws")
        assert alive(pid)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "demo stopped" in out
    assert not alive(pid) and not port_open(url)


def test_a_second_demo_replaces_what_a_killed_one_left_running(tmp_path):
    state_dir = tmp_path / "ws"
    first, first_url, _ = start_demo(state_dir)
    orphan = sandbox_pid(state_dir)
    os.killpg(first.pid, signal.SIGKILL)  # the console dies (no cleanup), the sandbox is left behind
    first.wait(timeout=10)
    assert alive(orphan)
    second, url, _ = start_demo(state_dir)
    try:
        assert not alive(orphan) and httpx.get(f"{url}/healthz/ready", timeout=5).status_code == 200
    finally:
        second.send_signal(signal.SIGINT)
        second.communicate(timeout=30)
    assert not alive(sandbox_pid(state_dir) or orphan)


def test_bad_port_is_one_line_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hunter_console.cli", "demo", "--no-tui", "--state-dir", str(tmp_path), "--port", "80"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "--port 80" in result.stderr and "Traceback" not in result.stderr
