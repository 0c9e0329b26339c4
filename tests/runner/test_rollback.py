"""Incident rollback on the local executor: a release that went wrong after it deployed is
rolled back (app, then the database as chosen) and checked healthy, every step audited."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import pytest

from hunter_console.events import ActionFinished
from hunter_console.session import SessionError


async def run_to_end(session, name, **kwargs) -> ActionFinished:
    started = await session.start_action(name, **kwargs)
    events = [e async for e in session.follow(started.run_id)]
    return events[-1]


def release(session) -> None:
    for name in ("backup", "migrate", "deploy"):
        end = asyncio.run(run_to_end(session, name))
        assert end.status == "ok", f"{name}: {end.outcome.message}"


def break_it(workspace, session) -> None:
    token = session.settings.environment.secret("admin_token")
    r = httpx.post(f"{workspace.base_url}/_admin/faults", headers={"X-Admin-Token": token},
                   json={"fail_ready": True, "error_rate": 1.0}, timeout=5)
    assert r.status_code == 200, r.text
    assert httpx.get(f"{workspace.base_url}/healthz/ready", timeout=5).status_code == 503


def version_serving(workspace) -> str:
    return httpx.get(f"{workspace.base_url}/healthz/ready", timeout=5).json()["version"]


def test_plan_from_real_state_then_app_rollback_makes_it_healthy(workspace, session_for):
    session = session_for(workspace)
    plan = asyncio.run(session.rollback_plan())
    assert plan.app is None and "nothing to roll back to" in plan.app_error  # nothing deployed yet
    release(session)
    break_it(workspace, session)
    plan = asyncio.run(session.rollback_plan())
    assert plan.app == f"stop v1.0.0, start v0.9.0 on port {workspace.port}"
    assert plan.downgrade_to == "c3e5a7b9d1f4" and plan.backup["sha256"]
    assert plan.options() == {"none": None, "downgrade": None, "restore": None}
    end = asyncio.run(run_to_end(session, "rollback", confirm="sandbox"))
    assert end.status == "ok" and "healthy" in end.outcome.message, end.outcome.message
    assert version_serving(workspace) == "v0.9.0"
    assert session.audit.verify().ok


def test_confirmation_missing_wrong_or_another_environment_runs_nothing(workspace, session_for):
    session = session_for(workspace)
    for confirm in (None, "sandbx", "production"):
        with pytest.raises(SessionError):
            asyncio.run(session.start_action("rollback", confirm=confirm))
    refused = session.audit.events(kind="refused")
    assert [r.action for r in refused] == ["rollback"] * 3
    assert not session.audit.events(kind="action.start")


def test_rollback_with_downgrade_takes_the_schema_back(workspace, session_for, pg_database):
    session = session_for(workspace)
    release(session)
    end = asyncio.run(run_to_end(session, "rollback", confirm="sandbox", params={"db": "downgrade"}))
    assert end.status == "ok", end.outcome.message
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "c3e5a7b9d1f4"
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'companies'")}
    assert "tenant_size" not in columns


def test_rollback_with_restore_brings_back_the_data_as_it_was_at_the_backup(workspace, session_for, pg_database):
    session = session_for(workspace)
    with psycopg.connect(pg_database) as conn:
        conn.execute("INSERT INTO companies (domain, name) VALUES ('before-release.example', 'Before')")
    release(session)
    with psycopg.connect(pg_database) as conn:
        conn.execute("INSERT INTO companies (domain, name) VALUES ('after-release.example', 'After')")
    end = asyncio.run(run_to_end(session, "rollback", confirm="sandbox", params={"db": "restore"}))
    assert end.status == "ok", end.outcome.message
    with psycopg.connect(pg_database) as conn:
        domains = {r[0] for r in conn.execute("SELECT domain FROM companies")}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert "before-release.example" in domains and "after-release.example" not in domains
    assert revision == "c3e5a7b9d1f4"


def test_rollback_takes_over_from_a_running_action_and_audits_it(workspace, session_for, pg_database):
    first, second = session_for(workspace, "alice"), session_for(workspace, "bob")
    release(first)
    with psycopg.connect(pg_database, autocommit=False) as blocker:
        blocker.execute("CREATE TABLE IF NOT EXISTS stall (id int)")
        blocker.commit()  # visible to pg_dump, which then waits on the lock below
        blocker.execute("LOCK TABLE stall IN ACCESS EXCLUSIVE MODE")  # a backup hangs on it
        hung = asyncio.run(first.start_action("backup"))
        end = asyncio.run(run_to_end(second, "rollback", confirm="sandbox"))
        blocker.rollback()
    assert end.status == "ok", end.outcome.message
    [takeover] = second.audit.events(kind="lock.takeover")
    assert takeover.operator == "bob" and takeover.detail["holder"]["operator"] == "alice"
    hung_end = [r for r in second.audit.events(kind="action.end") if r.detail.get("run") == hung.run_id]
    assert hung_end and hung_end[0].status == "cancelled"
