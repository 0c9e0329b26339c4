"""The local executor against real sandbox processes on PostgreSQL: deploy, a failed deploy that
leaves the old version serving, rollback, run (alembic), logs, state for a later console, stop."""

from __future__ import annotations

import json

import httpx
import pytest

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors import Executor
from hunter_console.executors.local import LocalExecutor
from hunter_console.sandbox.schema import SALES_ENGINE_REVISION

from .conftest import free_port, pid_gone, wait_for


async def drain(events) -> tuple[list, Outcome]:
    collected = [event async for event in events]
    assert isinstance(collected[-1], Outcome) and not any(isinstance(e, Outcome) for e in collected[:-1])
    return collected[:-1], collected[-1]


@pytest.fixture
async def executor(fresh_pg, tmp_path):
    ex = LocalExecutor(free_port(), fresh_pg, tmp_path / "state", env={"HUNTER_API_KEY": "exec-key"},
                       ready_timeout=4)
    yield ex
    await ex.stop()


def serving_version(ex: LocalExecutor) -> str:
    return httpx.get(f"{ex.base_url}/healthz/live", timeout=3).json()["version"]


async def test_local_executor_is_an_executor(executor):
    assert isinstance(executor, Executor)


async def test_run_alembic_streams_and_reports_exit_code(executor):
    lines, outcome = await drain(executor.run(["alembic", "upgrade", SALES_ENGINE_REVISION]))
    assert outcome.ok and outcome.exit_code == 0
    assert any("Running upgrade" in line.text for line in lines if isinstance(line, LogLine))
    lines, outcome = await drain(executor.run(["alembic", "current"]))
    assert [line.text for line in lines if line.stream == "stdout"] == [SALES_ENGINE_REVISION]
    _, failed = await drain(executor.run(["alembic", "downgrade", "nowhere"]))
    assert not failed.ok and failed.exit_code == 1
    _, missing = await drain(executor.run(["no-such-binary-here"]))
    assert missing.exit_code == 127


async def test_deploy_failed_deploy_rollback_and_stop(executor, tmp_path):
    await drain(executor.run(["alembic", "upgrade", SALES_ENGINE_REVISION]))
    assert await executor.current_version() is None

    events, outcome = await drain(executor.deploy("v0.9.0"))
    assert outcome.ok, outcome.message
    assert any(isinstance(e, Progress) for e in events)
    assert any(isinstance(e, LogLine) and '"msg":"started"' in e.text for e in events)
    assert await executor.current_version() == "v0.9.0" and serving_version(executor) == "v0.9.0"
    first_pid = outcome.detail["pid"]

    # v1.0.0 before migrating: never ready, reported failed, v0.9.0 serving again
    events, outcome = await drain(executor.deploy("v1.0.0"))
    assert not outcome.ok
    assert "needs f786f93501ea" in outcome.message and "v0.9.0 is serving again" in outcome.message
    assert pid_gone(first_pid)
    assert await executor.current_version() == "v0.9.0" and serving_version(executor) == "v0.9.0"
    _, rollback = await drain(executor.rollback())
    assert not rollback.ok and "nothing to roll back to" in rollback.message

    # migrate, deploy v1.0.0 for real, then roll back to v0.9.0
    assert (await drain(executor.run(["alembic", "upgrade", "head"])))[1].ok
    _, outcome = await drain(executor.deploy("v1.0.0"))
    assert outcome.ok and outcome.detail["previous_version"] == "v0.9.0"
    assert serving_version(executor) == "v1.0.0"
    state = json.loads(executor.state_path.read_text())
    assert state["version"] == "v1.0.0" and state["previous_version"] == "v0.9.0" and state["port"] == executor.port

    _, outcome = await drain(executor.rollback())
    assert outcome.ok and serving_version(executor) == "v0.9.0"  # ready at head: additive migration
    assert await executor.current_version() == "v0.9.0"
    pid = outcome.detail["pid"]

    # a later console finds the running sandbox from the state file and stops it
    later = LocalExecutor(executor.port, executor.database_url, executor.state_dir)
    assert await later.current_version() == "v0.9.0"
    lines = [line.text async for line in later.logs(follow=False)]
    assert any('"version":"v1.0.0"' in text for text in lines)
    await later.stop()
    await wait_for(lambda: pid_gone(pid))
    assert await later.current_version() is None and await executor.current_version() is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{executor.base_url}/healthz/live", timeout=2)


async def test_stop_leaves_no_process(executor):
    await drain(executor.run(["alembic", "upgrade", "head"]))
    _, outcome = await drain(executor.deploy("v1.0.0"))
    assert outcome.ok
    pid = outcome.detail["pid"]
    assert not pid_gone(pid)
    await executor.stop()
    assert pid_gone(pid)
    await executor.stop()  # twice is fine


async def test_deploy_of_a_crashing_version_restores_the_old_one(fresh_pg, tmp_path):
    await drain(LocalExecutor(0, fresh_pg, tmp_path).run(["alembic", "upgrade", "head"]))
    port = free_port()
    good = LocalExecutor(port, fresh_pg, tmp_path / "state", env={"HUNTER_FAULT_CRASH_ON_START": "v1.0.1"},
                         ready_timeout=4)
    try:
        assert (await drain(good.deploy("v1.0.0")))[1].ok
        _, outcome = await drain(good.deploy("v1.0.1"))
        assert not outcome.ok and "exited with code 3" in outcome.message and "v1.0.0 is serving again" in outcome.message
        assert await good.current_version() == "v1.0.0"
        _, bad = await drain(good.deploy("banana"))
        assert not bad.ok and "not a version" in bad.message
    finally:
        await good.stop()


async def test_logs_follow_yields_new_lines(executor):
    await drain(executor.run(["alembic", "upgrade", "head"]))
    assert (await drain(executor.deploy("v1.0.0")))[1].ok
    follower = executor.logs(follow=True)
    seen: list[str] = []
    async for line in follower:
        seen.append(line.text)
        if '"msg":"started"' in line.text:
            httpx.get(f"{executor.base_url}/api/v1/leads", headers={"X-API-Key": "exec-key"}, timeout=3)
        if '"route":"/api/v1/leads"' in line.text:
            break
    await follower.aclose()
    assert any('"status":200' in text for text in seen if "/api/v1/leads" in text)
