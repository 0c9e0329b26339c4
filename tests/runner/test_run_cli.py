"""`hunter-console run`: output streamed, exit code = outcome, refusals one line."""

from __future__ import annotations

import subprocess
import sys


def cli(workspace, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "hunter_console.cli", "--config", str(workspace.config_path),
                           "--operator", "erin", *args], capture_output=True, text=True, timeout=timeout)


def test_run_backup_streams_and_exits_0_then_rollback_needs_the_name(workspace):
    dry = cli(workspace, "run", "backup", "--dry-run")
    assert dry.returncode == 0 and "pg_dump (custom format)" in dry.stdout
    done = cli(workspace, "run", "backup")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "== backup on sandbox" in done.stdout and "== backup OK" in done.stdout
    assert "pg_dump" in done.stdout
    refused = cli(workspace, "run", "rollback")
    assert refused.returncode == 1 and "type the environment name 'sandbox'" in refused.stderr
    assert "Traceback" not in refused.stderr
    nothing = cli(workspace, "run", "rollback", "--confirm", "sandbox")
    assert nothing.returncode == 1 and "nothing to roll back to" in nothing.stdout


def test_bad_usage_exits_2(workspace):
    for args in (["run", "dance"], ["run", "rollback", "--db", "everything", "--confirm", "sandbox"]):
        result = cli(workspace, *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
