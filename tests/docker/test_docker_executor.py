"""DockerExecutor against the real engine: exec, build, deploy (Compose-style recreate), failed
deploys bringing the old container back, rollback, logs, stop, and an unreachable engine."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from docker_testlib import HEAD_REVISION, IMAGE_REPO, TEST_LABEL, V09_REVISION, collect, dockerfile

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors.base import Executor, ExecutorError
from hunter_console.executors.docker import DockerExecutor

pytestmark = pytest.mark.docker


def service_containers(api, project):
    return api.containers(all=True, filters={"label": [f"com.docker.compose.project={project.name}",
                                                         "com.docker.compose.service=api"]})


def texts(events) -> str:
    return "\n".join(e.text for e in events if isinstance(e, LogLine))


def test_is_an_executor_and_import_is_light():
    import subprocess
    import sys

    assert isinstance(DockerExecutor("p", base_url="http://127.0.0.1:9"), Executor)
    code = "import sys, hunter_console.executors.docker; print('docker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "importing the executor must not import the docker SDK"


async def test_engine_unreachable_is_one_clear_line():
    ex = DockerExecutor("hunter", base_url="http://127.0.0.1:9", docker_host="unix:///tmp/nope.sock")
    for stream in (ex.deploy("v1.0.0"), ex.run(["alembic", "current"]), ex.rollback()):
        events, outcome = await collect(stream)
        assert isinstance(outcome, Outcome) and not outcome.ok
        assert "cannot reach the Docker engine at unix:///tmp/nope.sock: No such file or directory" in outcome.message
        assert "\n" not in outcome.message and "Traceback" not in outcome.message
    with pytest.raises(ExecutorError, match="cannot reach the Docker engine at unix:///tmp/nope.sock"):
        await ex.current_version()
    with pytest.raises(ExecutorError, match="cannot reach the Docker engine"):
        async for _ in ex.logs(follow=False):
            pass


async def test_run_streams_alembic_output_with_exit_codes(project_factory, executor_for):
    project = project_factory("v0.9.0", V09_REVISION)
    ex = executor_for(project)

    lines, outcome = await collect(ex.run(["alembic", "current"]))
    assert outcome.ok and outcome.exit_code == 0, outcome
    assert V09_REVISION in texts(lines)
    assert all(isinstance(e, LogLine) for e in lines)

    lines, outcome = await collect(ex.run(["alembic", "upgrade", "head"]))
    assert outcome.ok and outcome.exit_code == 0, texts(lines)
    assert f"Running upgrade {V09_REVISION} -> {HEAD_REVISION}" in texts(lines)
    assert {e.stream for e in lines} <= {"stdout", "stderr"}

    lines, outcome = await collect(ex.run(["alembic", "current"]))
    assert HEAD_REVISION in texts(lines)

    lines, outcome = await collect(ex.run(["alembic", "downgrade"]))
    assert not outcome.ok and outcome.exit_code == 2
    assert "needs a revision" in texts(lines)

    lines, outcome = await collect(ex.run(["no-such-command"]))
    assert not outcome.ok and outcome.exit_code in (126, 127)


async def test_run_output_is_redacted_and_env_is_passed(project_factory, executor_for):
    project = project_factory("v0.9.0", V09_REVISION)
    ex = executor_for(project, env={"EXTRA": "from-executor"})
    script = "import os; print('extra=' + os.environ['EXTRA']); print('password=hunter2xyz'); print('partial', end='')"
    lines, outcome = await collect(ex.run(["python", "-c", script]))
    assert outcome.ok, texts(lines)
    assert [e.text for e in lines] == ["extra=from-executor", "password=***", "partial"]


async def test_build_streams_output(docker_api, base_image, executor_for, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nLABEL {TEST_LABEL}=1 built.by=test\n")
    ex = DockerExecutor("unused", base_url="http://127.0.0.1:9", image_repo=IMAGE_REPO)
    tag = f"{IMAGE_REPO}-build:ok"
    lines, outcome = await collect(ex.build(tmp_path, tag))
    assert outcome.ok, outcome
    assert "Step 1/2 : FROM" in texts(lines) and "Successfully tagged" in texts(lines)
    image = docker_api.inspect_image(tag)
    assert image["Id"] == outcome.detail["image_id"]
    assert image["Config"]["Labels"]["built.by"] == "test"


async def test_build_failure_is_an_outcome_with_the_error(base_image, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nFROBNICATE all the things\n")
    ex = DockerExecutor("unused", base_url="http://127.0.0.1:9", image_repo=IMAGE_REPO)
    lines, outcome = await collect(ex.build(tmp_path, f"{IMAGE_REPO}-build:bad"))
    assert not outcome.ok
    assert "unknown instruction" in outcome.message.lower() and "FROBNICATE" in outcome.message.upper()

    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nCOPY missing.txt /\n")
    lines, outcome = await collect(ex.build(tmp_path, f"{IMAGE_REPO}-build:bad"))
    assert not outcome.ok and "missing.txt" in outcome.message, outcome
    assert "missing.txt" in texts(lines)


async def test_deploy_recreates_like_compose_then_rollback(docker_api, project_factory, executor_for, test_images):
    project = project_factory("v0.9.0", V09_REVISION)
    ex = executor_for(project)
    old = docker_api.inspect_container(project.container_name)
    assert await ex.current_version() == "v0.9.0"

    _, migrated = await collect(ex.run(["alembic", "upgrade", "head"]))
    assert migrated.ok
    events, outcome = await collect(ex.deploy("v1.0.0"))
    assert outcome.ok, (outcome, texts(events))
    assert sum(isinstance(e, Progress) for e in events) >= 5
    assert "started" in texts(events)  # the new container's start-up output, attached before start

    [summary] = service_containers(docker_api, project)
    new = docker_api.inspect_container(summary["Id"])
    assert new["Id"] != old["Id"] and new["Name"] == old["Name"] and new["State"]["Running"]
    assert new["Image"] == test_images["v1.0.0"]
    labels = new["Config"]["Labels"]
    for key in ("com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.container-number",
                "com.docker.compose.oneoff", "com.docker.compose.version", "com.docker.compose.project.working_dir"):
        assert labels[key] == old["Config"]["Labels"][key], key
    assert labels["com.docker.compose.config-hash"] not in ("", "0" * 64)
    assert labels["hunter.version"] == "v1.0.0" and labels["hunter.previous-image"] == test_images["v0.9.0"]
    assert new["HostConfig"]["NetworkMode"] == "host" and new["HostConfig"]["Binds"] == old["HostConfig"]["Binds"]
    assert "HUNTER_PORT=%d" % project.port in new["Config"]["Env"]
    assert new["Config"]["Cmd"] == ["--port", str(project.port)]
    assert new["Config"]["Entrypoint"][-1] == "v1.0.0"  # the new image's entrypoint, not the old one's
    assert docker_api.inspect_image(f"{IMAGE_REPO}:rollback")["Id"] == test_images["v0.9.0"]
    with pytest.raises(Exception):
        docker_api.inspect_container(old["Id"])
    live = project.live()
    assert live.status_code == 200 and live.json()["version"] == "v1.0.0"
    assert httpx.get(project.base_url + "/healthz/ready", timeout=3).status_code == 200
    assert await ex.current_version() == "v1.0.0"

    events, outcome = await collect(ex.rollback())
    assert outcome.ok, (outcome, texts(events))
    assert project.live().json()["version"] == "v0.9.0"
    assert await ex.current_version() == "v0.9.0"
    [summary] = service_containers(docker_api, project)
    assert docker_api.inspect_container(summary["Id"])["Name"] == old["Name"]
    assert docker_api.inspect_image(f"{IMAGE_REPO}:rollback")["Id"] == test_images["v1.0.0"]


@pytest.mark.parametrize("version, why", [
    ("v1.1.0", "exited with code 3 on start"),  # crashes on start
    ("v1.2.0", "health check failed"),  # its Docker health check never passes
    ("v1.4.0", "not ready after 3s"),  # no health check; /healthz/ready answers 503
])
async def test_failed_deploy_brings_the_old_container_back(docker_api, project_factory, executor_for, version, why):
    project = project_factory("v0.9.0", HEAD_REVISION)
    ex = executor_for(project, health_timeout_s=3.0 if version == "v1.4.0" else 20.0)
    old = docker_api.inspect_container(project.container_name)
    started = time.monotonic()
    events, outcome = await collect(ex.deploy(version))
    assert not outcome.ok
    assert why in outcome.message and "v0.9.0 is serving again" in outcome.message, outcome.message
    assert outcome.message.startswith(f"deploy to {version} failed")
    assert time.monotonic() - started < 30
    if version == "v1.1.0":
        assert "crashing at start" in texts(events)
    live = project.live()
    assert live.status_code == 200 and live.json()["version"] == "v0.9.0"
    [summary] = service_containers(docker_api, project)
    back = docker_api.inspect_container(summary["Id"])
    assert back["Name"] == old["Name"] and back["Image"] == old["Image"] and back["State"]["Running"]
    assert back["Config"]["Labels"] == old["Config"]["Labels"]
    assert await ex.current_version() == "v0.9.0"


async def test_deploy_waits_for_the_docker_health_check(docker_api, project_factory, executor_for):
    project = project_factory("v0.9.0", HEAD_REVISION)
    ex = executor_for(project)
    events, outcome = await collect(ex.deploy("v1.3.0"))
    assert outcome.ok, (outcome, texts(events))
    [summary] = service_containers(docker_api, project)
    assert docker_api.inspect_container(summary["Id"])["State"]["Health"]["Status"] == "healthy"


async def test_deploy_builds_from_a_context(docker_api, base_image, project_factory, executor_for, tmp_path):
    project = project_factory("v0.9.0", HEAD_REVISION)
    repo = f"{IMAGE_REPO}-built"
    (tmp_path / "Dockerfile").write_text(dockerfile(base_image, "v1.0.0"))
    ex = executor_for(project, build_context=tmp_path, image_repo=repo)
    events, outcome = await collect(ex.deploy("v1.0.0"))
    assert outcome.ok, (outcome, texts(events))
    assert "Successfully tagged " + repo + ":v1.0.0" in texts(events)
    assert project.live().json()["version"] == "v1.0.0"

    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nNOT_AN_INSTRUCTION\n")
    events, outcome = await collect(ex.deploy("v1.0.1"))
    assert not outcome.ok and "stopped before any change" in outcome.message
    assert project.live().json()["version"] == "v1.0.0"


async def test_deploy_of_a_missing_image_or_service(project_factory, executor_for):
    project = project_factory("v0.9.0", V09_REVISION)
    _, outcome = await collect(executor_for(project).deploy("v9.9.9"))
    assert not outcome.ok and f"image {IMAGE_REPO}:v9.9.9 is not on this Docker engine" in outcome.message
    ex = DockerExecutor("no-such-project", base_url=project.base_url, image_repo=IMAGE_REPO)
    _, outcome = await collect(ex.deploy("v1.0.0"))
    assert not outcome.ok and "has no container" in outcome.message
    _, outcome = await collect(ex.run(["alembic", "current"]))
    assert not outcome.ok and "no running container" in outcome.message
    assert await ex.current_version() is None


async def test_logs_follow_and_not(project_factory, executor_for):
    project = project_factory("v0.9.0", V09_REVISION)
    ex = executor_for(project)
    lines = [line async for line in ex.logs(follow=False)]
    assert any('"started"' in line.text or "started" in line.text for line in lines), lines

    async def first_started():
        async for line in ex.logs(follow=True):
            if "started" in line.text:
                return line
    line = await asyncio.wait_for(first_started(), timeout=10)
    assert line.stream in ("stdout", "stderr")

    # following keeps yielding what is written after it began, and stops when the caller does
    async def follow_until(marker: str):
        async for line in ex.logs(follow=True):
            if line.text == marker:
                return line

    task = asyncio.create_task(follow_until("marker-after-follow token=abcd1234"[:19]))
    await asyncio.sleep(0.5)
    _, outcome = await collect(ex.run(["sh", "-c", "echo marker-after-follow > /proc/1/fd/1"]))
    assert outcome.ok
    line = await asyncio.wait_for(task, timeout=10)
    assert line.text == "marker-after-follow"

    lines = [line async for line in ex.logs(follow=False)]
    assert lines[-1].text == "marker-after-follow"


async def test_stop_stops_the_service(docker_api, project_factory, executor_for):
    project = project_factory("v0.9.0", V09_REVISION)
    ex = executor_for(project)
    await ex.stop()
    [summary] = service_containers(docker_api, project)
    assert docker_api.inspect_container(summary["Id"])["State"]["Running"] is False
    assert await ex.current_version() is None
    with pytest.raises(httpx.HTTPError):
        project.live()
