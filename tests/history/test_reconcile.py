"""Crash recovery on real parts: `hunter-console run migrate` killed (the CLI, then its runner, with
SIGKILL) while the migration is stalled on a table lock; the next launch reports the run as
interrupted and reconciles it against `alembic current`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import psycopg

from hunter_console import history
from hunter_console.audit import AuditLog
from hunter_console.reconcile import reconcile, reconcile_all
from hunter_console.sandbox.schema import HEAD_REVISION, SALES_ENGINE_REVISION


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_migrate_is_reported_on_the_next_launch_and_reconciled(workspace, session_for, pg_database):
    audit_path = session_for(workspace).settings.audit_path
    with psycopg.connect(pg_database, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE companies IN ACCESS EXCLUSIVE MODE")  # the upgrade stalls on it
        cli = subprocess.Popen([sys.executable, "-m", "hunter_console.cli", "--config", str(workspace.config_path),
                                "--operator", "erin", "run", "migrate"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            log = AuditLog(audit_path)

            def started():
                starts = log.events(kind="action.start", action="migrate")
                if starts and any(t.startswith("$ alembic upgrade") for _, t in history.run_output(log, starts[-1].id)):
                    return starts[-1]
                return None

            start = wait_for(started, what="the migrate to reach alembic upgrade")
            runner_pid = start.detail["pid"]
            assert runner_pid != cli.pid  # the runner is its own process: killing the CLI leaves it running
            os.kill(cli.pid, signal.SIGKILL)
            cli.wait(10)
            time.sleep(0.5)
            assert alive(runner_pid) and session_for(workspace).interrupted() == []  # still running: not interrupted
            os.kill(runner_pid, signal.SIGKILL)  # now the runner dies, mid-migrate
            wait_for(lambda: not alive(runner_pid), 10, "the runner to die")

            again = session_for(workspace, operator="frank")  # the next launch
            [run] = again.interrupted()
            assert run.run_id == start.id and run.action == "migrate"
            found = asyncio.run(reconcile(again, run, timeout_s=20))  # while the upgrade is still stalled
            assert found["alembic_current"] == SALES_ENGINE_REVISION and found["alembic_head"] == HEAD_REVISION
            assert found["revision_before"] == SALES_ENGINE_REVISION
            assert found["verdict"].startswith("not applied"), found
            assert found["version"] == "v0.9.0"
        finally:
            if cli.poll() is None:
                cli.kill()
        blocker.rollback()  # the orphaned alembic upgrade (the runner's child) now goes on and finishes

    again = session_for(workspace, operator="frank")

    def at_head():
        with psycopg.connect(pg_database) as conn:
            return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION

    wait_for(at_head, 60, "the orphaned upgrade to finish")
    [(run_id, recorded)] = asyncio.run(reconcile_all(again, timeout_s=20))
    assert run_id == start.id
    assert recorded["alembic_current"] == HEAD_REVISION
    assert recorded["verdict"].startswith("migrate completed"), recorded
    assert again.interrupted() == []  # reconciled once, not again
    summary = history.run_summary(again.audit, start.id)
    assert summary.status == "interrupted" and summary.detail["reconciliation"]["alembic_current"] == HEAD_REVISION
    assert AuditLog(audit_path, create=False).verify().ok


def test_reconcile_never_hangs_on_a_dead_executor(workspace, session_for):
    """A command that cannot finish in time is recorded as text, not waited on forever."""
    session = session_for(workspace)
    from hunter_console.events import ActionStarted

    class Stuck:
        async def run(self, argv, env=None):
            await asyncio.sleep(3600)
            yield  # pragma: no cover

        async def current_version(self):
            raise ConnectionError("engine unreachable")

    from hunter_console.actions import context

    original = context.ActionContext.executor
    context.ActionContext.executor = property(lambda self: Stuck())
    try:
        began = time.monotonic()
        found = asyncio.run(reconcile(session, ActionStarted("migrate", session.environment, run_id=1),
                                      timeout_s=0.3))
    finally:
        context.ActionContext.executor = original
    assert time.monotonic() - began < 5
    assert "did not answer within 0.3s" in found["alembic_error"]
    assert "engine unreachable" in found["version_error"]
    assert found["verdict"].startswith("unknown")
