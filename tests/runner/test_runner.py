"""Actions run in a runner process of their own: start audited before the first side effect,
output stored in batches, end with outcome; they outlive the console that started them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest

from hunter_console.events import ActionFinished, ActionStarted, LogLine
from hunter_console.session import SessionError


async def run_to_end(session, name, **kwargs) -> tuple[ActionStarted, list, ActionFinished]:
    started = await session.start_action(name, **kwargs)
    events = [e async for e in session.follow(started.run_id)]
    assert isinstance(events[-1], ActionFinished)
    return started, events, events[-1]


def test_backup_runs_in_a_runner_and_is_recorded_start_output_end(workspace, session_for):
    session = session_for(workspace)
    started, events, end = asyncio.run(run_to_end(session, "backup", item="step-2-database-backup.backup"))
    assert end.status == "ok", end.outcome.message
    [artifact] = end.outcome.artifacts
    assert artifact.path.endswith(".dump") and os.path.getsize(artifact.path) == artifact.size
    assert any(isinstance(e, LogLine) and "pg_dump" in e.text for e in events)
    kinds = [r.kind for r in session.audit.events() if r.id == started.run_id or r.detail.get("run") == started.run_id]
    assert kinds[0] == "action.start" and kinds[-1] == "action.end" and "action.output" in kinds
    start_row = session.audit.get(started.run_id)
    assert start_row.detail["pid"] != os.getpid()  # it ran in another process
    assert start_row.operator == "alice" and start_row.host == "ssh 192.0.2.10"
    assert session.state("step-2-database-backup.backup").label == "OK"
    assert session.latest_backup()["sha256"] == artifact.sha256
    assert session.audit.verify().ok


def test_deploy_gate_refuses_without_backup_and_schema_then_override_runs(workspace, session_for):
    session = session_for(workspace)
    with pytest.raises(SessionError, match="no verified backup from v1.0.0.*schema not at head"):
        asyncio.run(session.start_action("deploy"))
    refused = session.audit.events(kind="refused")
    assert refused and refused[-1].action == "deploy"
    assert not session.audit.events(kind="action.start")
    # v1.0.0 on the old schema never gets ready: the deploy fails and v0.9.0 serves again
    _, _, end = asyncio.run(run_to_end(session, "deploy", override="drill: deploying before migrate on purpose"))
    assert end.status == "failed" and "v0.9.0 is serving again" in end.outcome.message
    assert session.audit.get(end.run_id).detail["override"] == "drill: deploying before migrate on purpose"


def test_full_release_backup_migrate_deploy_verify(workspace, session_for):
    session = session_for(workspace)
    for name in ("backup", "migrate", "deploy"):
        _, _, end = asyncio.run(run_to_end(session, name))
        assert end.status == "ok", f"{name}: {end.outcome.message}"
    migrate_end = [r for r in session.audit.events(kind="action.end") if r.action == "migrate"][-1]
    assert migrate_end.detail["revision_after"] == "f786f93501ea"
    assert migrate_end.detail["revision_before"] == "c3e5a7b9d1f4"
    _, events, end = asyncio.run(run_to_end(session, "verify"))
    assert end.status == "ok", [e.text for e in events if isinstance(e, LogLine)]


def test_one_action_at_a_time_second_console_is_refused_with_the_holder_named(workspace, session_for, pg_database):
    first, second = session_for(workspace, "alice"), session_for(workspace, "bob")
    with psycopg.connect(pg_database, autocommit=False) as blocker:
        blocker.execute("CREATE TABLE IF NOT EXISTS stall (id int)")
        blocker.commit()  # visible to pg_dump, which then waits on the lock below
        blocker.execute("LOCK TABLE stall IN ACCESS EXCLUSIVE MODE")  # pg_dump waits on it
        started = asyncio.run(first.start_action("backup"))
        with pytest.raises(SessionError, match=r"another action is running on sandbox: backup by alice \(ssh 192.0.2.10\)"):
            asyncio.run(second.start_action("backup"))
        blocker.rollback()
    end = asyncio.run(_last(first.follow(started.run_id)))
    assert end.status == "ok"
    assert [r.operator for r in second.audit.events(kind="refused")] == ["bob"]


def test_production_needs_the_typed_environment_name(workspace_factory, pg_database, session_for):
    session = session_for(workspace_factory("prod", pg_database, production=True))
    for confirm in (None, "production", "sandbx"):
        with pytest.raises(SessionError, match="nothing ran|type the environment name"):
            asyncio.run(session.start_action("migrate", confirm=confirm))
    assert len(session.audit.events(kind="refused")) == 3
    assert not session.audit.events(kind="action.start")
    _, _, end = asyncio.run(run_to_end(session, "migrate", confirm="sandbox"))
    assert end.status == "ok"


CONSOLE = textwrap.dedent("""
    import asyncio, sys
    from hunter_console.config import load_settings
    from hunter_console.session import open_session
    async def main():
        session = open_session(load_settings(sys.argv[1], operator="carol"))
        started = await session.start_action("migrate")
        print(started.run_id, flush=True)
        async for event in session.follow(started.run_id):
            pass
    asyncio.run(main())
""")


def test_sighup_to_the_console_mid_migrate_the_migrate_completes_and_is_recorded(workspace, session_for, pg_database):
    with psycopg.connect(pg_database, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE companies IN ACCESS EXCLUSIVE MODE")  # alembic upgrade waits on it
        console = subprocess.Popen([sys.executable, "-c", CONSOLE, str(workspace.config_path)],
                                   stdout=subprocess.PIPE, text=True)
        run_id = int(console.stdout.readline())
        time.sleep(0.5)
        console.send_signal(signal.SIGHUP)  # the SSH connection drops
        assert console.wait(timeout=10) == -signal.SIGHUP
        blocker.rollback()
    later = session_for(workspace, "carol")  # a new console after reconnecting
    events = asyncio.run(_collect(later.follow(run_id)))
    end = events[-1]
    assert isinstance(end, ActionFinished) and end.status == "ok", end.outcome.message
    assert any(isinstance(e, LogLine) and "Running upgrade c3e5a7b9d1f4 -> f786f93501ea" in e.text for e in events)


def test_a_runner_killed_with_sigkill_is_reported_interrupted(workspace, session_for, pg_database):
    session = session_for(workspace)
    with psycopg.connect(pg_database, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE companies IN ACCESS EXCLUSIVE MODE")
        started = asyncio.run(session.start_action("migrate"))
        pid = session.audit.get(started.run_id).detail["pid"]
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        blocker.rollback()
    again = session_for(workspace)
    assert [run.run_id for run in again.interrupted()] == [started.run_id]
    end = asyncio.run(_last(again.follow(started.run_id)))
    assert end.status == "interrupted"
    assert again.interrupted() == []  # reconciled once, not again


async def _collect(stream):
    return [event async for event in stream]


async def _last(stream):
    return (await _collect(stream))[-1]


def test_consoles_on_two_hosts_are_fenced_by_the_target_databases_lock(workspace, session_for, pg_database, tmp_path):
    here = session_for(workspace, "alice")
    there = session_for(workspace, "bob", audit_path=tmp_path / "other-host" / "audit.db")  # its own audit log
    with psycopg.connect(pg_database, autocommit=False) as blocker:
        blocker.execute("CREATE TABLE IF NOT EXISTS stall (id int)")
        blocker.commit()  # visible to pg_dump, which then waits on the lock below
        blocker.execute("LOCK TABLE stall IN ACCESS EXCLUSIVE MODE")  # alice's backup hangs on it
        started = asyncio.run(here.start_action("backup"))
        time.sleep(1.0)  # her runner holds the target's advisory lock by now
        with pytest.raises(SessionError, match="another console is acting on this environment's database: "
                                               "hunter-console backup by alice"):
            asyncio.run(there.start_action("backup"))
        # an incident rollback from the other host takes the lock over: alice's runner is fenced off
        rollback = asyncio.run(there.start_action("rollback", confirm="sandbox"))
        fenced = asyncio.run(_last(here.follow(started.run_id)))
        blocker.rollback()
    assert fenced.status == "failed" and "lost the lock on the target database" in fenced.outcome.message
    asyncio.run(_last(there.follow(rollback.run_id)))
    [takeover] = there.audit.events(kind="lock.takeover")
    assert "hunter-console backup by alice" in takeover.message


def test_a_failing_migration_stops_is_audited_failed_and_offers_the_rollback_plan(workspace, session_for, pg_database):
    session = session_for(workspace)
    assert asyncio.run(run_to_end(session, "backup"))[2].status == "ok"
    with psycopg.connect(pg_database, autocommit=True) as conn:  # someone added a G20 column by hand
        conn.execute("ALTER TABLE companies ADD COLUMN tenant_size text")
    _, events, end = asyncio.run(run_to_end(session, "migrate"))
    assert end.status == "failed" and "migration failed (exit 1)" in end.outcome.message, end.outcome.message
    assert "rollback plan" in end.outcome.message
    plan = end.outcome.detail["rollback_plan"]
    assert plan[0] == "alembic downgrade c3e5a7b9d1f4" and plan[1].startswith("or restore ")
    assert any(isinstance(e, LogLine) and "tenant_size" in e.text for e in events)  # the error, streamed
    row = [r for r in session.audit.events(kind="action.end") if r.action == "migrate"][-1]
    assert row.status == "failed" and row.detail["exit_code"] == 1
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "c3e5a7b9d1f4"
