"""A release through the session and its runner on the Docker executor: backup (pg_dump from the
console host), migrate (alembic exec'd in the service container), deploy v0.9.0 -> v1.0.0 the
way Compose recreates, then the incident rollback — every step audited."""

from __future__ import annotations

import asyncio

import httpx

from docker_testlib import IMAGE_REPO
from hunter_console.config import load_settings
from hunter_console.session import open_session


def workspace(tmp_path, project) -> object:
    (tmp_path / "service.env").write_text(f"DATABASE_URL={project.database_url}\n")
    (tmp_path / "hunter.toml").write_text(f"""
[console]
release = "v1.0.0"
audit = "audit.db"

[environments.staging]
base_url = "{project.base_url}"
executor = "docker"
env_file = "service.env"

[environments.staging.executor_settings]
project = "{project.name}"
service = "{project.service}"
image_repo = "{IMAGE_REPO}"
health_timeout_s = 20
""")
    return open_session(load_settings(tmp_path / "hunter.toml", operator="dora",
                                      environ={"SSH_CONNECTION": "192.0.2.20 1 192.0.2.1 22"}))


async def run_to_end(session, name, **kwargs):
    started = await session.start_action(name, **kwargs)
    return [e async for e in session.follow(started.run_id)][-1]


def version(project) -> str:
    return httpx.get(f"{project.base_url}/healthz/ready", timeout=5).json()["version"]


def test_backup_migrate_deploy_then_rollback_in_containers(tmp_path, project_factory):
    project = project_factory("v0.9.0")
    session = workspace(tmp_path, project)
    for name in ("backup", "migrate", "deploy"):
        end = asyncio.run(run_to_end(session, name))
        assert end.status == "ok", f"{name}: {end.outcome.message}"
    assert version(project) == "v1.0.0"
    migrate = [r for r in session.audit.events(kind="action.end") if r.action == "migrate"][-1]
    assert migrate.detail["revision_after"] == "f786f93501ea"
    plan = asyncio.run(session.rollback_plan())
    assert plan.app.startswith("re-create api on v0.9.0")
    end = asyncio.run(run_to_end(session, "rollback", confirm="staging"))
    assert end.status == "ok", end.outcome.message
    assert version(project) == "v0.9.0"
    assert session.audit.verify().ok
